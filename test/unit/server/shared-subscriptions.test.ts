import { buildSchema, parse, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { Broadcaster } from '../../../src/util/broadcast.ts';
import type { ServerContext } from '../../../src/resolvers/context.ts';
import { SharedSubscriptions, SLOW_CONSUMER_CLOSE_CODE } from '../../../src/server/shared-subscriptions.ts';
import { currentQueryScope, QueryScope } from '../../../src/storage/query-scope.ts';

/** A schema whose subscription counts how often its resolver runs, fed by a broadcaster. */
function setup(maxPending = 100) {
  const ticks = new Broadcaster<number>();
  const counter = { resolved: 0 };
  const schema = buildSchema(`type Query { ok: Boolean } type Subscription { tick(times: Int): Int }`);
  const subscriptionType = schema.getSubscriptionType()!;
  const field = subscriptionType.getFields().tick!;
  field.subscribe = () => ticks.subscribe({ maxPending: 10_000 });
  field.resolve = (value: number, args: { times?: number }) => {
    counter.resolved++;
    return value * (args.times ?? 1);
  };
  const shared = new SharedSubscriptions({ userScopedFields: new Set(), maxPending });
  const closed: { code: number; reason: string }[] = [];
  const context: Pick<ServerContext, 'viewer' | 'connection'> = {
    viewer: null,
    connection: { close: (code, reason) => closed.push({ code, reason }) },
  };
  const args = (query: string, variables: Record<string, unknown> = {}): ExecutionArgs => ({
    schema,
    document: parse(query),
    variableValues: variables,
    contextValue: context,
  });
  return { ticks, counter, shared, closed, args };
}

async function iteratorOf(result: unknown): Promise<AsyncIterableIterator<ExecutionResult>> {
  const value = await result;
  if (value === null || typeof value !== 'object' || !(Symbol.asyncIterator in value)) {
    throw new Error(`not a subscription: ${JSON.stringify(value)}`);
  }
  return value as AsyncIterableIterator<ExecutionResult>;
}

describe('SharedSubscriptions', () => {
  it('executes each distinct operation once per event, whatever the number of subscribers', async () => {
    const { ticks, counter, shared, args } = setup();
    const same = await Promise.all(
      [0, 1, 2].map(() => iteratorOf(shared.subscribe(args('subscription { tick(times: 2) }')))),
    );
    const other = await iteratorOf(shared.subscribe(args('subscription { tick(times: 3) }')));
    expect(shared.activeExecutions).toBe(2);
    const nexts = [...same, other].map((iterator) => iterator.next());
    ticks.publish(5);
    const results = await Promise.all(nexts);
    expect(results.map((r) => (r.value as ExecutionResult).data)).toEqual([
      { tick: 10 },
      { tick: 10 },
      { tick: 10 },
      { tick: 15 },
    ]);
    expect(counter.resolved).toBe(2);
    expect(shared.executionsStarted).toBe(2);
  });

  it('ends the shared execution when its last subscriber leaves', async () => {
    const { ticks, shared, args } = setup();
    const a = await iteratorOf(shared.subscribe(args('subscription { tick }')));
    const b = await iteratorOf(shared.subscribe(args('subscription { tick }')));
    await a.return!();
    expect(shared.activeExecutions).toBe(1);
    await b.return!();
    expect(shared.activeExecutions).toBe(0);
    expect(ticks.size).toBe(0);
  });

  it('closes the connection of a subscriber that falls behind, with 4429, without holding back the others', async () => {
    const { ticks, shared, args, closed } = setup(3);
    const slow = await iteratorOf(shared.subscribe(args('subscription { tick }')));
    const fast = await iteratorOf(shared.subscribe(args('subscription { tick }')));
    const received: unknown[] = [];
    for (let i = 1; i <= 6; i++) {
      const next = fast.next();
      ticks.publish(i);
      received.push((await next).value);
    }
    expect(received).toHaveLength(6);
    expect(closed.map((c) => c.code)).toEqual([SLOW_CONSUMER_CLOSE_CODE]);
    expect(closed[0]?.reason).toContain('slow consumer');
    // What the slow one had queued is dropped with it: it is over.
    expect((await slow.next()).done).toBe(true);
  });

  it('returns a subscription that cannot start (bad arguments) as a result, shared with nobody', async () => {
    const { shared, args } = setup();
    const result = await shared.subscribe(args('subscription($t: Int) { tick(times: $t) }', { t: 'x' }));
    expect(result).toHaveProperty('errors');
    expect(shared.activeExecutions).toBe(0);
  });

  it('executes each event inside a query scope of its own', async () => {
    const ticks = new Broadcaster<number>();
    const schema = buildSchema(`type Query { ok: Boolean } type Subscription { tick: Int }`);
    const field = schema.getSubscriptionType()!.getFields().tick!;
    field.subscribe = () => ticks.subscribe({ maxPending: 10 });
    const seen: (QueryScope | undefined)[] = [];
    field.resolve = (value: number) => {
      seen.push(currentQueryScope());
      return value;
    };
    const made: QueryScope[] = [];
    const shared = new SharedSubscriptions({
      userScopedFields: new Set(),
      maxPending: 10,
      eventScope: () => {
        const scope = new QueryScope({
          deadline: Infinity,
          maxRows: 1,
          maxBytes: 1,
          maxConcurrentQueries: 1,
        });
        made.push(scope);
        return scope;
      },
    });
    const context = { viewer: null };
    const iterator = await iteratorOf(
      shared.subscribe({ schema, document: parse('subscription { tick }'), contextValue: context }),
    );
    for (const value of [1, 2]) {
      const next = iterator.next();
      ticks.publish(value);
      expect((await next).value).toEqual({ data: { tick: value } });
    }
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeInstanceOf(QueryScope);
    expect(seen[1]).toBeInstanceOf(QueryScope);
    expect(seen[0]).not.toBe(seen[1]);
    expect(made).toContain(seen[0]);
    await iterator.return!();
  });
});
