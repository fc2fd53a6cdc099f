// In-process fan-out of live events (alerts from the science topic, events from the events topic) to the
// subscriptions of this server. Each subscriber gets its own bounded queue: a subscriber that does not keep up
// (too many events waiting, or the oldest waiting too long) is cut off by its `onOverflow` (the server closes
// its connection) instead of growing memory or slowing the others. publish() never waits for a subscriber.
//
// Deliveries go through a scheduler: the server's TurnScheduler wakes at most a fixed number of waiting
// subscribers per event-loop turn and lets I/O (HTTP requests, ClickHouse answers) run between turns, so that a
// burst of live alerts for thousands of subscribers never holds the event loop in one long run of microtasks.

/** Runs delivery tasks, now or later, in the order given. */
export interface DeliveryScheduler {
  schedule(task: () => void): void;
}

/** Delivers at once (in the caller's microtask): for tests and tools without a server. */
export const IMMEDIATE: DeliveryScheduler = {
  schedule: (task) => task(),
};

/** How long one turn of deliveries, and the work they wake, should take: the delay they add to a query. */
export const TARGET_TURN_MS = 5;
const MIN_PER_TURN = 8;

/**
 * A bounded number of tasks per event-loop turn (setImmediate), first in first out: a subscriber woken now
 * waits behind those woken before it, whatever their number, and every turn ends with the event loop polling
 * I/O. The number adapts: the time from one turn to the next is the work the previous turn's deliveries woke
 * (graphql execution, serialisation, socket writes) plus whatever I/O came in between; above 2 x TARGET_TURN_MS
 * the number halves, below TARGET_TURN_MS it grows by an eighth, between MIN_PER_TURN and `maxPerTurn`. A busy
 * server thus gives live subscribers less of each turn, and a subscriber left too far behind is shed (4429).
 */
export class TurnScheduler implements DeliveryScheduler {
  private tasks: (() => void)[] = [];
  private head = 0;
  private armed = false;
  private lastTurnAt = 0;
  /** Tasks run since the start (deliveries). */
  ran = 0;
  /** Tasks the next turn may run. */
  perTurn: number;

  constructor(private readonly maxPerTurn: number) {
    this.perTurn = maxPerTurn;
  }

  get pending(): number {
    return this.tasks.length - this.head;
  }

  schedule(task: () => void): void {
    this.tasks.push(task);
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.turn);
    }
  }

  private readonly turn = (): void => {
    this.armed = false;
    const now = performance.now();
    if (this.lastTurnAt > 0) {
      const gap = now - this.lastTurnAt;
      if (gap > 2 * TARGET_TURN_MS) this.perTurn = Math.max(MIN_PER_TURN, Math.floor(this.perTurn / 2));
      else if (gap < TARGET_TURN_MS)
        this.perTurn = Math.min(this.maxPerTurn, this.perTurn + Math.ceil(this.perTurn / 8));
    }
    const end = Math.min(this.tasks.length, this.head + this.perTurn);
    while (this.head < end) {
      const task = this.tasks[this.head]!;
      this.tasks[this.head++] = NOOP;
      this.ran++;
      task();
    }
    if (this.head === this.tasks.length) {
      // Nothing left: the next turn starts a new measurement.
      this.tasks = [];
      this.head = 0;
      this.lastTurnAt = 0;
    } else {
      if (this.head > 4096 && this.head * 2 > this.tasks.length) {
        this.tasks = this.tasks.slice(this.head);
        this.head = 0;
      }
      this.lastTurnAt = now;
      this.armed = true;
      setImmediate(this.turn);
    }
  };
}

const NOOP = () => undefined;

export interface Subscriber<T> extends AsyncIterableIterator<T> {
  /** Events waiting to be consumed. */
  readonly pending: number;
  /** Ends the subscription. */
  return(): Promise<IteratorResult<T>>;
}

export interface SubscribeOptions {
  /** Most events kept for a subscriber that has not consumed them yet. */
  maxPending: number;
  /** Longest an event may wait for a subscriber (ms); beyond it the subscriber overflows. None when absent. */
  maxLagMs?: number;
  /** Called once when the subscriber falls more than maxPending behind; it is closed right after. */
  onOverflow?: () => void;
}

export class Broadcaster<T> {
  private readonly subscribers = new Set<Queue<T>>();

  constructor(private readonly scheduler: DeliveryScheduler = IMMEDIATE) {}

  get size(): number {
    return this.subscribers.size;
  }

  publish(event: T): void {
    for (const queue of this.subscribers) queue.push(event);
  }

  subscribe(options: SubscribeOptions): Subscriber<T> {
    const queue = new Queue<T>(options, this.scheduler, () => this.subscribers.delete(queue));
    this.subscribers.add(queue);
    return queue;
  }

  /** Ends every subscription (server shutdown). */
  closeAll(): void {
    for (const queue of [...this.subscribers]) queue.end();
  }
}

class Queue<T> implements Subscriber<T> {
  private readonly items: T[] = [];
  /** When each item was queued (Date.now()), when a lag bound is set. */
  private readonly queuedAt: number[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private done = false;

  constructor(
    private readonly options: SubscribeOptions,
    private readonly scheduler: DeliveryScheduler,
    private readonly onEnd: () => void,
  ) {}

  get pending(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.done) return;
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      this.scheduler.schedule(() => resolve({ value: item, done: false }));
      return;
    }
    const { maxLagMs } = this.options;
    const now = maxLagMs === undefined ? 0 : Date.now();
    const oldest = this.queuedAt[0];
    if (
      this.items.length >= this.options.maxPending ||
      (maxLagMs !== undefined && oldest !== undefined && now - oldest > maxLagMs)
    ) {
      this.options.onOverflow?.();
      this.end();
      return;
    }
    this.items.push(item);
    if (maxLagMs !== undefined) this.queuedAt.push(now);
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.items.length = 0;
    this.queuedAt.length = 0;
    this.onEnd();
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const item = this.items.shift()!;
      this.queuedAt.shift();
      return new Promise((resolve) => this.scheduler.schedule(() => resolve({ value: item, done: false })));
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
