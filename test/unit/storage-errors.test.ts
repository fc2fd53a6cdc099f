import { describe, expect, it } from 'vitest';
import { StorageError, translateErrors } from '../../src/storage/clickhouse.ts';

function failing(codes: string[]): { run: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    run: () => {
      const code = codes[calls++];
      if (code === undefined) return Promise.resolve('answer');
      return Promise.reject(Object.assign(new Error(`socket ${code}`), { code }));
    },
    calls: () => calls,
  };
}

describe('translateErrors', () => {
  it('sends a read once more when its pooled connection was closed by the server', async () => {
    for (const code of ['EPIPE', 'ECONNRESET']) {
      const op = failing([code]);
      await expect(translateErrors(op.run, { idempotent: true })).resolves.toBe('answer');
      expect(op.calls()).toBe(2);
    }
  });

  it('retries only once, and never a write', async () => {
    const twice = failing(['EPIPE', 'EPIPE']);
    await expect(translateErrors(twice.run, { idempotent: true })).rejects.toMatchObject({
      code: 'unavailable',
    });
    expect(twice.calls()).toBe(2);
    const write = failing(['ECONNRESET']);
    await expect(translateErrors(write.run)).rejects.toBeInstanceOf(StorageError);
    expect(write.calls()).toBe(1);
  });

  it('does not retry a refused connection or a server error', async () => {
    const refused = failing(['ECONNREFUSED']);
    await expect(translateErrors(refused.run, { idempotent: true })).rejects.toMatchObject({
      code: 'unavailable',
    });
    expect(refused.calls()).toBe(1);
  });
});
