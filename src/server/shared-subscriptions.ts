// Subscriptions executed once per distinct operation, not once per subscriber. graphql-ws calls `subscribe`
// for every subscriber; here subscribers of the same (document, operation, variables) share one execution,
// whose results are fanned out to each of them through a bounded queue. With a thousand browsers watching a
// hundred filters, each live alert runs a hundred filters, not a thousand.
//
// Results of root fields listed in `userScopedFields` depend on who asks (private watchlists): those are shared
// only between connections of the same user.
import {
  getOperationAST,
  Kind,
  print,
  subscribe,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
} from 'graphql';
import { runInQueryScope, type QueryScope } from '../storage/query-scope.ts';
import { Broadcaster, type DeliveryScheduler } from '../util/broadcast.ts';
import type { ServerContext } from '../resolvers/context.ts';

export interface SharedSubscriptionsOptions {
  userScopedFields: ReadonlySet<string>;
  /** Results kept for a subscriber that has not taken them yet; beyond it the connection is closed. */
  maxPending: number;
  /** Longest a result may wait for a subscriber (ms); beyond it the connection is closed. None when absent. */
  maxLagMs?: number;
  /** Who wakes subscribers (the server's TurnScheduler); at once when absent. */
  scheduler?: DeliveryScheduler;
  /**
   * A query scope for the execution of one event (its deadline starting at its first ClickHouse query): each
   * event's queries are bounded as an HTTP request's are. None when absent.
   */
  eventScope?: () => QueryScope;
}

type Result = ExecutionResult | AsyncIterableIterator<ExecutionResult>;

interface Shared {
  results: Broadcaster<ExecutionResult>;
  source: AsyncIterableIterator<ExecutionResult>;
}

export const SLOW_CONSUMER_CLOSE_CODE = 4429;

export class SharedSubscriptions {
  private readonly shared = new Map<string, Promise<Shared | ExecutionResult>>();
  /** Executions started since the server started (each a distinct operation). */
  executionsStarted = 0;

  constructor(private readonly options: SharedSubscriptionsOptions) {}

  get activeExecutions(): number {
    return this.shared.size;
  }

  /** graphql-ws's `subscribe` option. */
  readonly subscribe = async (args: ExecutionArgs): Promise<Result> => {
    const key = this.keyOf(args);
    let entry = this.shared.get(key);
    if (entry === undefined) {
      entry = this.start(key, args);
      this.shared.set(key, entry);
    }
    const shared = await entry;
    if (!('results' in shared)) {
      this.shared.delete(key);
      return shared;
    }
    const context = args.contextValue as ServerContext;
    const { maxPending, maxLagMs } = this.options;
    const subscriber = shared.results.subscribe({
      maxPending,
      ...(maxLagMs === undefined ? {} : { maxLagMs }),
      onOverflow: () =>
        context.connection?.close(
          SLOW_CONSUMER_CLOSE_CODE,
          `slow consumer: more than ${maxPending} results not yet received` +
            (maxLagMs === undefined ? '' : `, or one waiting more than ${maxLagMs} ms`),
        ),
    });
    const release = async () => {
      if (shared.results.size === 0 && this.shared.get(key) === entry) {
        this.shared.delete(key);
        await shared.source.return?.();
      }
    };
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      next: async () => {
        const result = await subscriber.next();
        if (result.done === true) await release();
        return result;
      },
      return: async () => {
        await subscriber.return();
        await release();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  };

  private async start(key: string, args: ExecutionArgs): Promise<Shared | ExecutionResult> {
    const result = await subscribe(args);
    if (!(Symbol.asyncIterator in result)) return result;
    this.executionsStarted++;
    const shared: Shared = { results: new Broadcaster(this.options.scheduler), source: result };
    void this.pump(key, shared);
    return shared;
  }

  private async pump(key: string, shared: Shared): Promise<void> {
    try {
      for (;;) {
        // The event's execution runs in the continuation of next(): inside the scope it is called in.
        const scope = this.options.eventScope?.();
        let step: IteratorResult<ExecutionResult>;
        try {
          step =
            scope === undefined
              ? await shared.source.next()
              : await runInQueryScope(scope, () => shared.source.next());
        } finally {
          scope?.dispose();
        }
        if (step.done === true) break;
        shared.results.publish(step.value);
      }
    } finally {
      shared.results.closeAll();
      const current = this.shared.get(key);
      if (current !== undefined && (await current) === shared) this.shared.delete(key);
    }
  }

  private keyOf(args: ExecutionArgs): string {
    const operation = getOperationAST(args.document, args.operationName);
    const rootFields = (operation?.selectionSet.selections ?? [])
      .filter((selection): selection is FieldNode => selection.kind === Kind.FIELD)
      .map((field) => field.name.value);
    const context = args.contextValue as ServerContext;
    const scope = rootFields.some((name) => this.options.userScopedFields.has(name))
      ? `user:${context.viewer?.user ?? ''}`
      : 'shared';
    return JSON.stringify([
      print(args.document),
      args.operationName ?? null,
      args.variableValues ?? {},
      scope,
    ]);
  }
}
