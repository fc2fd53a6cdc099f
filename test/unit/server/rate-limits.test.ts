import { describe, expect, it } from 'vitest';
import { Admission, REFUSED_OPERATION_WEIGHT, requestWeight } from '../../../src/server/rate-limits.ts';

const LIMITS = {
  perAddress: { ratePerSecond: 2, burst: 3, concurrency: 2 },
  perToken: { ratePerSecond: 1, burst: 1, concurrency: 1 },
};

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('Admission', () => {
  it('admits a burst, then the rate, per address; says when to retry', () => {
    const time = clock();
    const admission = new Admission(LIMITS, time.now);
    const anonymous = { address: '10.0.0.1', tokenId: null };
    for (let i = 0; i < 3; i++) {
      const admitted = admission.admit(anonymous);
      expect(admitted.ok).toBe(true);
      if (admitted.ok) admitted.release();
    }
    const refused = admission.admit(anonymous);
    expect(refused).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    // Another address has its own bucket.
    expect(admission.admit({ address: '10.0.0.2', tokenId: null }).ok).toBe(true);
    time.advance(500);
    expect(admission.admit(anonymous).ok).toBe(true);
  });

  it('charges work done outside an admitted operation to the address and the token', () => {
    const time = clock();
    const admission = new Admission(
      { perAddress: { ratePerSecond: 10, burst: 20, concurrency: 5 }, perToken: LIMITS.perToken },
      time.now,
    );
    const keys = { address: 'a', tokenId: null };
    admission.charge(keys, REFUSED_OPERATION_WEIGHT);
    admission.charge(keys, REFUSED_OPERATION_WEIGHT);
    // 20 - 2 x 10 = 0 left: refused until a tenth of a second has refilled one.
    expect(admission.admit(keys)).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    expect(admission.admit({ address: 'b', tokenId: null }).ok).toBe(true);
    time.advance(100);
    expect(admission.admit(keys).ok).toBe(true);
    // A token's bucket is charged too (burst 1): its next operation waits.
    admission.charge({ address: 'c', tokenId: 't' }, 1);
    expect(admission.admit({ address: 'd', tokenId: 't' })).toMatchObject({ ok: false });
  });

  it('holds operations in flight until released; subscriptions count against the rate only', () => {
    const admission = new Admission(
      { ...LIMITS, perAddress: { ...LIMITS.perAddress, burst: 100 } },
      clock().now,
    );
    const keys = { address: 'a', tokenId: null };
    const first = admission.admit(keys);
    const second = admission.admit(keys);
    const third = admission.admit(keys);
    expect([first.ok, second.ok, third.ok]).toEqual([true, true, false]);
    if (!third.ok) expect(third.message).toContain('at most 2');
    expect(admission.admit(keys, false).ok).toBe(true);
    if (first.ok) {
      first.release();
      first.release();
    }
    expect(admission.admit(keys).ok).toBe(true);
    expect(admission.admit(keys).ok).toBe(false);
  });

  it('applies the token limits besides the address limits', () => {
    const time = clock();
    const admission = new Admission(LIMITS, time.now);
    const withToken = { address: 'a', tokenId: 't1' };
    const admitted = admission.admit(withToken);
    expect(admitted.ok).toBe(true);
    if (admitted.ok) admitted.release();
    const refused = admission.admit(withToken);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.message).toContain('token');
    // The same address without the token still has room.
    expect(admission.admit({ address: 'a', tokenId: null }).ok).toBe(true);
  });

  it('weighs large requests: one per started 4 KB', () => {
    expect([requestWeight(0), requestWeight(4096), requestWeight(4097), requestWeight(65_536)]).toEqual([
      1, 1, 2, 16,
    ]);
    const time = clock();
    const admission = new Admission(LIMITS, time.now);
    const keys = { address: 'a', tokenId: null };
    const admitted = admission.admit(keys);
    if (!admitted.ok) throw new Error('refused');
    admitted.weigh(requestWeight(40_000));
    admitted.release();
    // 3 - 10 tokens: the bucket is 7 below zero, 4 s at 2 per second before the next operation.
    const refused = admission.admit(keys);
    expect(refused).toMatchObject({ ok: false, retryAfterSeconds: 4 });
    time.advance(4000);
    expect(admission.admit(keys).ok).toBe(true);
  });
});
