// GraphiQL in Debian's Chromium, served offline from the project's own node_modules: a query from the preloaded
// examples runs, and so does the live subscription example, which receives alerts as raw2science publishes them.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';
import { launchChromium, openPage, screenshot } from '../helpers/browser.ts';

let api: ApiSandbox;
let browser: Browser;

beforeAll(async () => {
  [api, browser] = await Promise.all([createApiSandbox('giql', { withAlerts: false }), launchChromium()]);
  await api.pipeline.start('raw2science');
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

const response = (page: Page) => page.locator('.graphiql-response').innerText();

async function runTab(page: Page, title: string, operation: string): Promise<void> {
  await page.locator('.graphiql-tab', { hasText: title }).first().click();
  // The editor shows the tab's operation before it is run (a click right away can still send the previous one).
  await page.locator('.graphiql-query-editor', { hasText: operation }).waitFor({ timeout: 30_000 });
  await page.locator('.graphiql-execute-button').click();
}

describe('GraphiQL', () => {
  it('loads without any request beyond this server, and runs the example query and the live subscription', async () => {
    const { page, errors } = await openPage(browser);
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(api.url) && !request.url().startsWith(api.url.replace(/^http/, 'ws'))) {
        foreign.push(request.url());
      }
    });
    await page.goto(`${api.url}/graphiql`);
    await page.locator('.graphiql-container').waitFor({ timeout: 30_000 });

    // The first tab shown is 'Object'; switching tabs used to send its operation name (graphql/graphiql#3632).
    await runTab(page, 'Statistics', 'query Statistics');
    await expect.poll(() => response(page), { timeout: 30_000 }).toContain('"classes"');

    const executions = api.launched.server.shared.activeExecutions;
    await runTab(page, 'Live', 'subscription Live');
    await expect
      .poll(() => api.launched.server.shared.activeExecutions, { timeout: 30_000 })
      .toBe(executions + 1);
    await api.pipeline.publish(api.payloads);
    await expect.poll(() => response(page), { timeout: 60_000 }).toContain('"liveAlerts"');
    expect(await response(page)).toContain('"alertId"');
    await screenshot(page, 'graphiql-live');

    expect(foreign).toEqual([]);
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });
});
