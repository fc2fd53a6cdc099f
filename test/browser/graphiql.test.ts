// GraphiQL in Debian's Chromium, served offline from the project's own node_modules, over a database the pipeline
// filled from the demo's real ZTF alerts: the first Run of every preloaded example, each in a fresh profile,
// answers data without errors (the examples name ids and positions of those alerts), and the live subscription
// example receives alerts as raw2science publishes them.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_EXAMPLES } from '../../src/server/examples.ts';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';
import { launchChromium, openPage, screenshot } from '../helpers/browser.ts';

let api: ApiSandbox;
let browser: Browser;

beforeAll(async () => {
  // withAlerts leaves stream2raw and raw2science running: alerts published later arrive live.
  [api, browser] = await Promise.all([createApiSandbox('giql', { withAlerts: true }), launchChromium()]);
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

/** The examples answered in one HTTP response: every one but the subscription. */
const QUERY_TABS = [
  { title: 'Object', expect: '"objectId": "ZTF18acvqmmq"' },
  { title: 'Cone', expect: '"objectId": "ZTF18acvqmmq"' },
  { title: 'Statistics', expect: '"night": "2023-10-' },
  { title: 'SkyMap', expect: '"pixel": ' },
  { title: 'SolarSystem', expect: '"ssName": "58270"' },
] as const;

describe('GraphiQL', () => {
  it('has an expectation for every preloaded query', () => {
    const names = GRAPHIQL_EXAMPLES.map((e) => /(?:query|subscription) (\w+)/.exec(e.query)?.[1]);
    expect(names).toEqual([...QUERY_TABS.map((t) => t.title), 'Live']);
  });

  it.each(QUERY_TABS)(
    'answers data at the first Run of the $title example in a fresh profile',
    async ({ title, expect: expected }) => {
      const { page, errors } = await openPage(browser);
      await page.goto(`${api.url}/graphiql`);
      await page.locator('.graphiql-container').waitFor({ timeout: 30_000 });
      // The operation's own response (GraphiQL also posts its introspection query), read whole: the response
      // editor renders only the lines in view.
      const answered = page.waitForResponse(
        (r) =>
          r.url() === `${api.url}/graphql` &&
          (r.request().postData() ?? '').includes(`"operationName":"${title}"`),
        { timeout: 30_000 },
      );
      if (title === 'Object') {
        // The tab shown at start, run without touching anything: it used to be sent without its variables.
        await page
          .locator('.graphiql-query-editor', { hasText: 'query Object' })
          .waitFor({ timeout: 30_000 });
        await page.locator('.graphiql-execute-button').click();
      } else {
        await runTab(page, title, `query ${title}`);
      }
      const body = (await (await answered).json()) as { data?: unknown; errors?: unknown };
      expect(body.errors).toBeUndefined();
      expect(JSON.stringify(body.data, null, 2)).toContain(expected);
      await expect.poll(() => response(page), { timeout: 30_000 }).toContain('"data"');
      await screenshot(page, `graphiql-${title.toLowerCase()}`);
      expect(errors.messages).toEqual([]);
      await page.context().close();
    },
  );

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
