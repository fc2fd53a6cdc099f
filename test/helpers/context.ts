// What every test needs: the config the test command resolved, unique names, and free ports.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { loadConfig, type Config } from '../../src/config.ts';

/** The config `fink test` passed down through the environment (defaults when run bare). */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ overrides });
}

/**
 * A name no other test (or earlier run) uses: databases, topics and consumer groups are per test. The hex part
 * starts with this run's tag (set by test/global-setup.ts), so a run's teardown removes only its own leftovers,
 * never those of another run going on at the same time on the same servers.
 */
export function uniqueName(prefix: string): string {
  const tag = process.env[RUN_TAG_ENV] ?? randomBytes(2).toString('hex').slice(0, 3);
  return `${prefix}_${Date.now().toString(36)}_${tag}${randomBytes(2).toString('hex').slice(0, 3)}`;
}

/** Environment variable carrying the run's tag (3 hex digits) from the global setup to the test workers. */
export const RUN_TAG_ENV = 'TEST_RUN_TAG';

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port was assigned')),
      );
    });
  });
}
