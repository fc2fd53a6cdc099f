import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Broadcaster, TurnScheduler } from '../../../src/util/broadcast.ts';

describe('TurnScheduler', () => {
  it('runs at most its budget of tasks per event-loop turn, in order', async () => {
    const scheduler = new TurnScheduler(8);
    const ran: number[] = [];
    for (let i = 0; i < 20; i++) scheduler.schedule(() => ran.push(i));
    expect(ran).toEqual([]);
    await nextTurn();
    expect(ran.length).toBeLessThanOrEqual(8);
    expect(ran.length).toBeGreaterThan(0);
    for (let turn = 0; turn < 10 && ran.length < 20; turn++) await nextTurn();
    expect(ran).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(scheduler.pending).toBe(0);
  });

  it('delivers a burst to many subscribers across turns, letting other callbacks run in between', async () => {
    const scheduler = new TurnScheduler(16);
    const events = new Broadcaster<number>(scheduler);
    const subscribers = Array.from({ length: 100 }, () => events.subscribe({ maxPending: 10 }));
    const received: number[] = [];
    const pending = subscribers.map((s) => s.next().then((r) => received.push(r.value as number)));
    events.publish(7);
    let turnsWithOtherWork = 0;
    while (received.length < 100) {
      // Another callback (an HTTP request, say) gets its turn while the deliveries are not all done.
      await nextTurn();
      if (received.length < 100) turnsWithOtherWork++;
    }
    await Promise.all(pending);
    expect(received).toEqual(Array.from({ length: 100 }, () => 7));
    expect(turnsWithOtherWork).toBeGreaterThanOrEqual(100 / 16 - 1);
  });
});

describe('Broadcaster', () => {
  it('cuts off a subscriber whose oldest event waited longer than maxLagMs', async () => {
    const events = new Broadcaster<number>();
    let overflowed = 0;
    const slow = events.subscribe({ maxPending: 1000, maxLagMs: 50, onOverflow: () => overflowed++ });
    events.publish(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    events.publish(2);
    expect(overflowed).toBe(1);
    expect(events.size).toBe(0);
    expect(await slow.next()).toEqual({ value: undefined, done: true });
  });

  it('keeps a subscriber that takes its events in time', async () => {
    const events = new Broadcaster<number>();
    const fast = events.subscribe({ maxPending: 1000, maxLagMs: 50, onOverflow: () => undefined });
    events.publish(1);
    expect(await fast.next()).toEqual({ value: 1, done: false });
    await new Promise((resolve) => setTimeout(resolve, 80));
    events.publish(2);
    expect(await fast.next()).toEqual({ value: 2, done: false });
  });

  it('counts the wait for a delivery slot as lag: a delivery later than maxLagMs cuts the subscriber off', async () => {
    const held: (() => void)[] = [];
    const events = new Broadcaster<number>({ schedule: (task) => held.push(task) });
    let overflowed = 0;
    const subscriber = events.subscribe({ maxPending: 1000, maxLagMs: 50, onOverflow: () => overflowed++ });
    const next = subscriber.next();
    events.publish(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    for (const task of held.splice(0)) task();
    expect(await next).toEqual({ value: undefined, done: true });
    expect(overflowed).toBe(1);
  });
});
