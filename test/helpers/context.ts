// What every test needs: the config the test command resolved, unique names, and free ports.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { loadConfig, type Config } from '../../src/config.ts';

/** The config `fink test` passed down through the environment (defaults when run bare). */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ overrides });
}

/** A name no other test (or earlier run) uses: databases, topics and consumer groups are per test. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

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
