// Debian's Chromium driven by playwright-core (which downloads no browser): headless, without the sandbox
// (tests run as root), and without the background traffic a fresh profile makes (updates, sync, networking),
// so that a run talks to nothing but the test's own server.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_PATH } from '../../src/cli/install.ts';
import { PROJECT_ROOT } from '../../src/project.ts';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where the browser tests save a screenshot of each page they check (git-ignored). */
export const SCREENSHOT_DIR = path.join(PROJECT_ROOT, 'test-output', 'screenshots');

/** A laptop screen: the dashboard must be readable at this size. */
export const LAPTOP_VIEWPORT = { width: 1366, height: 768 };

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export interface BrowserErrors {
  /** Uncaught exceptions and console errors of the page, to assert there were none. */
  messages: string[];
}

/** A page at laptop size in a fresh context (own localStorage), recording its uncaught errors. */
export async function openPage(browser: Browser): Promise<{ page: Page; errors: BrowserErrors }> {
  const context = await browser.newContext({ viewport: LAPTOP_VIEWPORT });
  const page = await context.newPage();
  const errors: BrowserErrors = { messages: [] };
  page.on('pageerror', (error) => errors.messages.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.messages.push(`console: ${message.text()}`);
  });
  return { page, errors };
}

/** Saves a full-page screenshot as <SCREENSHOT_DIR>/<name>.png and answers its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
