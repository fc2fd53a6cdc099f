// The live feed commits its consumer's position every few seconds, so a replaced consumer fetches again what was
// delivered since the last commit: DeliveredOffsets skips exactly that window, per topic partition.
import { describe, expect, it } from 'vitest';
import { DeliveredOffsets } from '../../../src/server/live-feed.ts';

const deliveredOf = (
  offsets: DeliveredOffsets,
  topic: string,
  partition: number,
  from: number,
  to: number,
) => {
  const kept: number[] = [];
  for (let offset = from; offset <= to; offset++) {
    if (offsets.first(topic, partition, String(offset))) kept.push(offset);
  }
  return kept;
};

describe('DeliveredOffsets', () => {
  it('delivers everything while nothing was committed (a new group starts at the end: no overlap)', () => {
    const offsets = new DeliveredOffsets();
    expect(deliveredOf(offsets, 'science', 0, 0, 4)).toEqual([0, 1, 2, 3, 4]);
    expect(deliveredOf(offsets, 'science', 0, 5, 6)).toEqual([5, 6]);
  });

  it('skips what a replaced consumer fetches again between the commit and the highest delivered offset', () => {
    const offsets = new DeliveredOffsets();
    deliveredOf(offsets, 'science', 0, 0, 9);
    offsets.commit({ topics: [{ topic: 'science', partitions: [{ partition: 0, offset: '6' }] }] });
    deliveredOf(offsets, 'science', 0, 10, 12);
    // The new consumer resumes at the committed position 6: 6..12 were delivered, 13 and 14 are new.
    expect(deliveredOf(offsets, 'science', 0, 6, 14)).toEqual([13, 14]);
  });

  it('keeps partitions and topics apart', () => {
    const offsets = new DeliveredOffsets();
    deliveredOf(offsets, 'science', 0, 0, 9);
    offsets.commit({
      topics: [
        { topic: 'science', partitions: [{ partition: 0, offset: '5' }] },
        { topic: 'events', partitions: [{ partition: 0, offset: '0' }] },
      ],
    });
    expect(deliveredOf(offsets, 'science', 1, 5, 7)).toEqual([5, 6, 7]);
    expect(deliveredOf(offsets, 'events', 0, 0, 2)).toEqual([0, 1, 2]);
    expect(deliveredOf(offsets, 'science', 0, 5, 10)).toEqual([10]);
  });

  it('delivers offsets below the committed position: a topic made again starts over', () => {
    const offsets = new DeliveredOffsets();
    deliveredOf(offsets, 'science', 0, 100, 120);
    offsets.commit({ topics: [{ topic: 'science', partitions: [{ partition: 0, offset: '115' }] }] });
    expect(deliveredOf(offsets, 'science', 0, 0, 3)).toEqual([0, 1, 2, 3]);
  });

  it('handles offsets past 2^53', () => {
    const offsets = new DeliveredOffsets();
    const big = 2n ** 60n;
    expect(offsets.first('science', 0, String(big))).toBe(true);
    offsets.commit({ topics: [{ topic: 'science', partitions: [{ partition: 0, offset: String(big) }] }] });
    expect(offsets.first('science', 0, String(big))).toBe(false);
    expect(offsets.first('science', 0, String(big + 1n))).toBe(true);
  });
});
