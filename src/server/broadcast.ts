// In-process fan-out of live events (alerts from the science topic, events from the events topic) to the
// subscriptions of this server. Each subscriber gets its own bounded queue: a subscriber that does not keep up
// is cut off by its `onOverflow` (the server closes its connection) instead of growing memory or slowing the
// others. publish() never waits for a subscriber.

export interface Subscriber<T> extends AsyncIterableIterator<T> {
  /** Events waiting to be consumed. */
  readonly pending: number;
  /** Ends the subscription. */
  return(): Promise<IteratorResult<T>>;
}

export interface SubscribeOptions {
  /** Most events kept for a subscriber that has not consumed them yet. */
  maxPending: number;
  /** Called once when the subscriber falls more than maxPending behind; it is closed right after. */
  onOverflow?: () => void;
}

export class Broadcaster<T> {
  private readonly subscribers = new Set<Queue<T>>();

  get size(): number {
    return this.subscribers.size;
  }

  publish(event: T): void {
    for (const queue of this.subscribers) queue.push(event);
  }

  subscribe(options: SubscribeOptions): Subscriber<T> {
    const queue = new Queue<T>(options, () => this.subscribers.delete(queue));
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
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private done = false;

  constructor(
    private readonly options: SubscribeOptions,
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
      resolve({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.options.maxPending) {
      this.options.onOverflow?.();
      this.end();
      return;
    }
    this.items.push(item);
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.items.length = 0;
    this.onEnd();
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
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
