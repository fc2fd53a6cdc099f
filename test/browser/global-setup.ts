// The browser tests need the dashboard built (from web/, when it changed) and Debian's Chromium: both are made
// here, once per run, before any test starts (`fink test` does it too, so this is then a quick check).
import { ensureChromium } from '../../src/cli/install.ts';
import { buildDashboard } from '../../src/server/dashboard.ts';

export default async function setup(): Promise<void> {
  ensureChromium();
  await buildDashboard();
}
