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

/**
 * At most `perTurn` tasks per event-loop turn (setImmediate), first in first out: a subscriber woken now waits
 * behind those woken before it, whatever their number, and every turn ends with the event loop polling I/O, so
 * that an HTTP request waits for at most one turn of deliveries (perTurn x ~40 us of execution, serialisation and
 * socket writes each) however many subscribers there are. A subscriber left too far behind is shed (4429).
 *
 * A fixed number, measured rather than adapted: adapting it to the wall time between turns throttled the
 * deliveries to a trickle on a machine busy with other processes, and to the process's CPU time (which counts
 * the garbage collector's threads) as well.
 */
export class TurnScheduler implements DeliveryScheduler {
  /** Two lanes: `first` (live events into the distinct subscriptions) runs before the subscribers' deliveries. */
  private readonly lanes: [Lane, Lane] = [new Lane(), new Lane()];
  private armed = false;
  /** Tasks run since the start (deliveries). */
  ran = 0;
  /**
   * The lane of the live feed's events: each becomes one execution per distinct subscription, whose result then
   * goes to every subscriber of it. Served first, so that a backlog of deliveries lags (and sheds) subscribers
   * rather than holding back the executions every subscriber waits for.
   */
  readonly first: DeliveryScheduler = { schedule: (task) => this.enqueue(0, task) };

  constructor(private readonly perTurn: number) {}

  get pending(): number {
    return this.lanes[0].size + this.lanes[1].size;
  }

  schedule(task: () => void): void {
    this.enqueue(1, task);
  }

  private enqueue(lane: 0 | 1, task: () => void): void {
    this.lanes[lane].push(task);
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.turn);
    }
  }

  private readonly turn = (): void => {
    this.armed = false;
    let budget = this.perTurn;
    for (const lane of this.lanes) {
      while (budget > 0) {
        const task = lane.shift();
        if (task === undefined) break;
        budget--;
        this.ran++;
        task();
      }
    }
    if (this.pending > 0) {
      this.armed = true;
      setImmediate(this.turn);
    }
  };
}

/** A FIFO of tasks with O(1) shift. */
class Lane {
  private tasks: (() => void)[] = [];
  private head = 0;

  get size(): number {
    return this.tasks.length - this.head;
  }

  push(task: () => void): void {
    this.tasks.push(task);
  }

  shift(): (() => void) | undefined {
    if (this.head === this.tasks.length) return undefined;
    const task = this.tasks[this.head]!;
    this.tasks[this.head++] = NOOP;
    if (this.head === this.tasks.length) {
      this.tasks = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.tasks.length) {
      this.tasks = this.tasks.slice(this.head);
      this.head = 0;
    }
    return task;
  }
}

const NOOP = () => undefined;

export interface Subscriber<T> extends AsyncIterableIterator<T> {
  /** Events waiting to be consumed. */
  readonly pending: number;
  /** Ends the subscription. */
  return(): Promise<IteratorResult<T>>;
}

export interface SubscribeOptions<T = unknown> {
  /** Most events kept for a subscriber that has not consumed them yet. */
  maxPending: number;
  /** Longest an event may wait for a subscriber (ms); beyond it the subscriber overflows. None when absent. */
  maxLagMs?: number;
  /** Called once when the subscriber falls more than maxPending behind; it is closed right after. */
  onOverflow?: () => void;
  /**
   * Which events the subscriber wants, decided in publish(): the others are never queued nor delivered, so a
   * subscription matching a few alerts in a thousand costs a predicate call per alert, not a delivery.
   */
  accept?: (event: T) => boolean;
}

export class Broadcaster<T> {
  private readonly subscribers = new Set<Queue<T>>();

  constructor(private readonly scheduler: DeliveryScheduler = IMMEDIATE) {}

  get size(): number {
    return this.subscribers.size;
  }

  publish(event: T): void {
    for (const queue of this.subscribers) queue.offer(event);
  }

  subscribe(options: SubscribeOptions<T>): Subscriber<T> {
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
    private readonly options: SubscribeOptions<T>,
    private readonly scheduler: DeliveryScheduler,
    private readonly onEnd: () => void,
  ) {}

  get pending(): number {
    return this.items.length;
  }

  offer(item: T): void {
    if (this.options.accept === undefined || this.options.accept(item)) this.push(item);
  }

  push(item: T): void {
    if (this.done) return;
    const { maxLagMs } = this.options;
    const now = maxLagMs === undefined ? 0 : Date.now();
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      this.deliver(resolve, item, now);
      return;
    }
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

  /**
   * Hands `item` (queued at `queuedAt`) to the consumer through the scheduler. The wait in the scheduler counts
   * as lag too: a subscriber whose delivery comes later than maxLagMs after its event is cut off instead.
   */
  private deliver(resolve: (result: IteratorResult<T>) => void, item: T, queuedAt: number): void {
    this.scheduler.schedule(() => {
      const { maxLagMs } = this.options;
      if (!this.done && maxLagMs !== undefined && Date.now() - queuedAt > maxLagMs) {
        this.options.onOverflow?.();
        this.end();
      }
      resolve(this.done ? { value: undefined, done: true } : { value: item, done: false });
    });
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
      const queuedAt = this.queuedAt.shift() ?? 0;
      return new Promise((resolve) => this.deliver(resolve, item, queuedAt));
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
