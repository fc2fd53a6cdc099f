// Per-client admission, the same for HTTP requests and WebSocket operations: a token bucket (rate and burst) and
// a count of operations in flight, per client address and, for a request with an API token, per token too. An
// operation refused is answered 429 with Retry-After over HTTP, and over WebSocket with a GraphQL error
// RATE_LIMITED carrying `retryAfter` (seconds) in its extensions.
//
// An operation weighs one per started REQUEST_WEIGHT_BYTES of its request (HTTP body, or query and variables of
// a WebSocket subscribe message): parsing a document costs about 0.6 us per token, so that a client sending
// 64 KB documents is held to a sixteenth of the rate of one sending small ones. An operation refused before it
// runs (it cannot be parsed, is too deep, too costly or invalid) weighs REFUSED_OPERATION_WEIGHT besides: refusing
// it was the server's work, and a client sending such operations again and again gets a tenth of the rate.

export interface KeyLimits {
  /** Operations per second, on average. */
  ratePerSecond: number;
  /** Operations allowed at once after a quiet period (the bucket's size). */
  burst: number;
  /** Operations in flight at once. */
  concurrency: number;
}

export interface AdmissionLimits {
  perAddress: KeyLimits;
  perToken: KeyLimits;
}

/** Whose buckets an operation draws on: its address's, and its token's (null or absent: none). */
export interface ClientKeys {
  address?: string | undefined;
  /** The API token's id; null for an anonymous client. */
  tokenId?: string | null | undefined;
}

/** Request bytes that weigh one operation. */
export const REQUEST_WEIGHT_BYTES = 4096;

/** What an operation refused before it runs weighs. */
export const REFUSED_OPERATION_WEIGHT = 10;

export function requestWeight(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / REQUEST_WEIGHT_BYTES));
}

export type Admitted = {
  ok: true;
  release: () => void;
  /** Charges the operation's weight beyond the one admitted (the bucket may go below zero: later ones wait). */
  weigh: (weight: number) => void;
};
export type Refused = { ok: false; retryAfterSeconds: number; message: string };

interface Bucket {
  tokens: number;
  updatedAt: number;
  inFlight: number;
}

/** Buckets kept before idle ones (full, nothing in flight) are dropped. */
const SWEEP_ABOVE = 10_000;

export class Admission {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Admits one operation, or says when to retry. `hold: false` (a subscription) counts against the rate only:
   * a subscription lasts as long as the client wants and is bounded per connection instead.
   */
  admit(keys: ClientKeys, hold = true): Admitted | Refused {
    const checks: [string, KeyLimits, string][] = [];
    if (keys.address !== undefined) checks.push([`a:${keys.address}`, this.limits.perAddress, 'address']);
    if (keys.tokenId != null) checks.push([`t:${keys.tokenId}`, this.limits.perToken, 'token']);
    const now = this.now();
    const buckets = checks.map(([key, limits]) => this.bucket(key, limits, now));
    for (let i = 0; i < checks.length; i++) {
      const [, limits, what] = checks[i]!;
      const bucket = buckets[i]!;
      if (hold && bucket.inFlight >= limits.concurrency) {
        return {
          ok: false,
          retryAfterSeconds: 1,
          message: `too many operations at once for this ${what} (at most ${limits.concurrency})`,
        };
      }
      if (bucket.tokens < 1) {
        return {
          ok: false,
          retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / limits.ratePerSecond)),
          message: `too many operations for this ${what} (at most ${limits.ratePerSecond} per second)`,
        };
      }
    }
    for (const bucket of buckets) {
      bucket.tokens -= 1;
      if (hold) bucket.inFlight++;
    }
    let released = !hold;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        for (const bucket of buckets) bucket.inFlight--;
      },
      weigh: (weight) => {
        for (const bucket of buckets) bucket.tokens -= Math.max(0, weight - 1);
      },
    };
  }

  /** Charges work done for a client outside an admitted operation (a refused one): later ones wait. */
  charge(keys: ClientKeys, weight: number): void {
    const now = this.now();
    if (keys.address !== undefined)
      this.bucket(`a:${keys.address}`, this.limits.perAddress, now).tokens -= weight;
    if (keys.tokenId != null) this.bucket(`t:${keys.tokenId}`, this.limits.perToken, now).tokens -= weight;
  }

  /** Keys tracked now (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private bucket(key: string, limits: KeyLimits, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= SWEEP_ABOVE) this.sweep(now);
      bucket = { tokens: limits.burst, updatedAt: now, inFlight: 0 };
      this.buckets.set(key, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(
      limits.burst,
      bucket.tokens + ((now - bucket.updatedAt) / 1000) * limits.ratePerSecond,
    );
    bucket.updatedAt = now;
    return bucket;
  }

  /** Drops buckets that would be full again and have nothing in flight: a new one would be the same. */
  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      const limits = key.startsWith('a:') ? this.limits.perAddress : this.limits.perToken;
      const refilled = bucket.tokens + ((now - bucket.updatedAt) / 1000) * limits.ratePerSecond;
      if (bucket.inFlight === 0 && refilled >= limits.burst) this.buckets.delete(key);
    }
  }
}
