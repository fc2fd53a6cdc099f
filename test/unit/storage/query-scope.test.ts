import { describe, expect, it } from 'vitest';
import {
  currentQueryScope,
  QueryScope,
  runInQueryScope,
  scopeEnded,
} from '../../../src/storage/query-scope.ts';
import { waitFor } from '../../helpers/wait.ts';

const scope = (options: Partial<ConstructorParameters<typeof QueryScope>[0]> = {}) =>
  new QueryScope({ deadline: Infinity, maxRows: 10, maxBytes: 1000, maxConcurrentQueries: 2, ...options });

describe('QueryScope', () => {
  it('is what the code it runs (and what that awaits) sees', async () => {
    const outer = scope();
    const seen = await runInQueryScope(outer, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentQueryScope();
    });
    expect(seen).toBe(outer);
    expect(currentQueryScope()).toBeUndefined();
  });

  it('starts a lazy deadline at its first query, not before', async () => {
    const lazy = scope({ timeoutFromFirstQueryMs: 30 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(lazy.ended).toBeUndefined();
    expect(lazy.executionSeconds()).toBeUndefined();
    await lazy.acquire();
    expect(lazy.executionSeconds()).toBe(1);
    await waitFor(() => lazy.ended !== undefined, 2000, 10);
    expect(lazy.ended?.code).toBe('timeout');
  });

  it('charges rows and bytes, and ends past either budget', () => {
    const budget = scope();
    budget.charge(5, 500);
    expect(() => budget.charge(6, 10)).toThrow(/maxRowsPerRequest/);
    expect(budget.ended?.code).toBe('limit-exceeded');
    const bytes = scope();
    expect(() => bytes.charge(1, 1001)).toThrow();
  });

  it('lets maxConcurrentQueries queries run, the next one waits for a slot, and an end wakes the waiters', async () => {
    const slots = scope();
    await slots.acquire();
    await slots.acquire();
    let third = false;
    const waiting = slots.acquire().then(
      () => (third = true),
      (error: unknown) => error,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(third).toBe(false);
    slots.release();
    await waiting;
    expect(third).toBe(true);
    const ended = slots.acquire().catch((error: unknown) => error);
    slots.abort(scopeEnded('cancelled', 'gone'));
    expect(await ended).toMatchObject({ code: 'cancelled' });
  });
});
