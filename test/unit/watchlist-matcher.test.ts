import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/framework.ts';
import { angularDistanceArcsec } from '../../src/sky/angles.ts';
import {
  createWatchlistCache,
  createWatchlistMatcher,
  createWatchlistStep,
  type MatchableWatchlist,
} from '../../src/pipeline/steps/watchlist.step.ts';
import type { Watchlist, WatchlistSource, WatchlistTarget } from '../../src/storage/watchlist-store.ts';

const DEG = Math.PI / 180;
const ARCSEC = DEG / 3600;

/** The point `distanceArcsec` away from (ra, dec) towards `bearingDeg` (0 = north, 90 = east). */
function offset(
  ra: number,
  dec: number,
  distanceArcsec: number,
  bearingDeg: number,
): { ra: number; dec: number } {
  const d = distanceArcsec * ARCSEC;
  const b = bearingDeg * DEG;
  const dec1 = dec * DEG;
  const dec2 = Math.asin(Math.sin(dec1) * Math.cos(d) + Math.cos(dec1) * Math.sin(d) * Math.cos(b));
  const ra2 =
    ra * DEG +
    Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(dec1), Math.cos(d) - Math.sin(dec1) * Math.sin(dec2));
  const raDeg = (((ra2 / DEG) % 360) + 360) % 360;
  return { ra: raDeg, dec: dec2 / DEG };
}

function target(ra: number, dec: number, radiusArcsec: number, label = 't'): WatchlistTarget {
  return { ra, dec, radiusArcsec, label };
}

describe('createWatchlistMatcher', () => {
  it.each([
    ['an ordinary field', 150.1, 2.2, 1.5],
    ['a target just west of RA 0', 359.9999, 10, 5],
    ['a target just east of RA 0', 0.0001, -10, 5],
    ['the north pole region', 123.4, 89.9995, 10],
    ['the north pole itself', 0, 90, 3],
    ['the south pole region', 300, -89.999, 30],
    ['a one-degree radius', 42, -30, 3600],
    ['a one-degree radius across RA 0', 0.2, 45, 3600],
    ['a sub-arcsecond radius', 210.5, 54.3, 0.5],
  ])('%s: hits within the radius in every direction, nothing outside', (_, ra, dec, radius) => {
    const match = createWatchlistMatcher([{ id: 'w1', targets: [target(ra, dec, radius, 'star')] }]);
    for (const bearing of [0, 45, 90, 135, 180, 225, 270, 315]) {
      const inside = offset(ra, dec, radius * 0.98, bearing);
      const hits = match(inside.ra, inside.dec);
      expect(hits, `inside at bearing ${bearing}`).toHaveLength(1);
      expect(hits[0]!.watchlistId).toBe('w1');
      expect(hits[0]!.targetLabel).toBe('star');
      expect(hits[0]!.distanceArcsec).toBeCloseTo(radius * 0.98, 3);
      const outside = offset(ra, dec, radius * 1.02, bearing);
      expect(match(outside.ra, outside.dec), `outside at bearing ${bearing}`).toEqual([]);
    }
  });

  it('matches across RA 0/360 whichever side the alert and the target are on', () => {
    const match = createWatchlistMatcher([{ id: 'w', targets: [target(359.9998, 0, 2)] }]);
    // 0.0002° + 0.0002° = 1.44" apart across the seam.
    expect(match(0.0002, 0)).toHaveLength(1);
    expect(match(360.0002, 0)).toHaveLength(1);
    expect(match(-0.0002, 0)).toHaveLength(1);
    expect(match(0.0008, 0)).toEqual([]);
  });

  it('matches across the pole (RA differs by 180° near dec 90)', () => {
    const match = createWatchlistMatcher([{ id: 'w', targets: [target(10, 89.9999, 1)] }]);
    // 0.36" from the pole on each side: 0.72" apart.
    expect(match(190, 89.9999)).toHaveLength(1);
    expect(match(190, 89.9996)).toEqual([]);
  });

  it.each([
    [90, -89.99975],
    [180, 89.99975],
    [270, -89.999],
    [0, 89.9999],
  ])('finds a target at (%f, %f), on a base-face edge in a polar cap', (ra, dec) => {
    const match = createWatchlistMatcher([{ id: 'w', targets: [target(ra, dec, 0.1)] }]);
    expect(match(ra, dec)).toHaveLength(1);
  });

  it('reports one hit per watchlist, its nearest target, ordered by watchlist id', () => {
    const watchlists: MatchableWatchlist[] = [
      { id: 'zeta', targets: [target(10, 10, 5, 'z-far'), target(10.0005, 10, 5, 'z-near')] },
      { id: 'alpha', targets: [target(10.0002, 10, 3, 'a')] },
      { id: 'mid', targets: [target(20, 20, 5, 'elsewhere')] },
    ];
    const hits = createWatchlistMatcher(watchlists)(10.0004, 10);
    expect(hits.map((h) => [h.watchlistId, h.targetLabel])).toEqual([
      ['alpha', 'a'],
      ['zeta', 'z-near'],
    ]);
  });

  it('matches nothing for invalid positions or without targets', () => {
    const match = createWatchlistMatcher([{ id: 'w', targets: [target(0, 0, 10)] }]);
    expect(match(Number.NaN, 0)).toEqual([]);
    expect(match(0, 91)).toEqual([]);
    expect(createWatchlistMatcher([])(0, 0)).toEqual([]);
  });

  it('agrees with a brute-force scan on random targets and probes (all radii, all of the sky)', () => {
    const position = fc.record({
      // Base-face edges (multiples of 90°) where the library's polar-cap pixel computation misplaces points.
      ra: fc.oneof(fc.double({ min: 0, max: 359.999999, noNaN: true }), fc.constantFrom(0, 90, 180, 270, 45)),
      // Uniform in sin(dec) so the poles get their share, plus the poles exactly.
      dec: fc.oneof(
        fc.double({ min: -1, max: 1, noNaN: true }).map((z) => Math.asin(z) / DEG),
        fc.constantFrom(90, -90, 89.9999, -89.9999, 89.99975, -89.99975, 41.8103149, -41.8103149),
      ),
    });
    const radius = fc.double({ min: Math.log(0.3), max: Math.log(3600), noNaN: true }).map(Math.exp);
    const scenario = fc.record({
      targets: fc.array(fc.record({ position, radius, watchlist: fc.integer({ min: 0, max: 4 }) }), {
        minLength: 1,
        maxLength: 40,
      }),
      probes: fc.array(
        fc.record({
          of: fc.nat(),
          factor: fc.double({ min: 0, max: 2, noNaN: true }),
          bearing: fc.oneof(fc.double({ min: 0, max: 360, noNaN: true }), fc.constantFrom(0, 90, 180, 270)),
        }),
        { minLength: 1, maxLength: 20 },
      ),
    });
    fc.assert(
      fc.property(scenario, ({ targets, probes }) => {
        const watchlists = [0, 1, 2, 3, 4].map((w) => ({
          id: `w${w}`,
          targets: targets
            .filter((t) => t.watchlist === w)
            .map((t, i) => target(t.position.ra, t.position.dec, t.radius, `w${w}-${i}`)),
        }));
        const match = createWatchlistMatcher(watchlists);
        for (const probe of probes) {
          const near = targets[probe.of % targets.length]!;
          const p = offset(near.position.ra, near.position.dec, near.radius * probe.factor, probe.bearing);
          const expected = watchlists
            .map((w) => {
              const within = w.targets
                .map((t) => ({ t, d: angularDistanceArcsec(p.ra, p.dec, t.ra, t.dec) }))
                .filter(({ t, d }) => d <= t.radiusArcsec)
                .sort((a, b) => a.d - b.d);
              return within.length === 0 ? null : { watchlistId: w.id, distance: within[0]!.d };
            })
            .filter((x) => x !== null);
          const actual = match(p.ra, p.dec);
          expect(actual.map((h) => h.watchlistId)).toEqual(expected.map((e) => e.watchlistId));
          actual.forEach((hit, i) => expect(hit.distanceArcsec).toBeCloseTo(expected[i]!.distance, 6));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

function header(id: string, targetsVersion: number): Watchlist {
  return {
    id,
    owner: 'ann',
    name: id,
    public: true,
    targetCount: 1,
    targetsVersion,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    version: targetsVersion,
  };
}

/** A source whose watchlists the test changes, recording which watchlists' targets were fetched. */
function fakeSource(initial: { header: Watchlist; targets: WatchlistTarget[] }[]) {
  let state = initial;
  const fetched: string[][] = [];
  const source: WatchlistSource = {
    active: () => Promise.resolve(state.map((s) => s.header)),
    targets: (watchlists) => {
      fetched.push(watchlists.map((w) => w.id));
      return Promise.resolve(
        new Map(watchlists.map((w) => [w.id, state.find((s) => s.header.id === w.id)?.targets ?? []])),
      );
    },
  };
  return { source, fetched, set: (next: typeof initial) => (state = next) };
}

describe('createWatchlistCache', () => {
  it('reloads at most every interval, fetching targets only of watchlists that changed', async () => {
    let now = 0;
    const fake = fakeSource([
      { header: header('a', 1), targets: [target(10, 10, 5, 'a1')] },
      { header: header('b', 1), targets: [target(20, 20, 5, 'b1')] },
    ]);
    const cache = createWatchlistCache(fake.source, { refreshIntervalMs: 1000, now: () => now });
    expect((await cache.matcher())(10, 10).map((h) => h.targetLabel)).toEqual(['a1']);
    expect(fake.fetched).toEqual([['a', 'b']]);

    // b's targets move, c appears, a is deleted: seen only after the interval.
    fake.set([
      { header: header('b', 2), targets: [target(10, 10, 5, 'b2')] },
      { header: header('c', 1), targets: [target(10, 10, 5, 'c1')] },
    ]);
    now = 999;
    expect((await cache.matcher())(10, 10).map((h) => h.targetLabel)).toEqual(['a1']);
    now = 1000;
    expect((await cache.matcher())(10, 10).map((h) => h.targetLabel)).toEqual(['b2', 'c1']);
    expect(fake.fetched).toEqual([
      ['a', 'b'],
      ['b', 'c'],
    ]);

    // Nothing changed: no target fetch at all.
    now = 2500;
    expect((await cache.matcher())(10, 10)).toHaveLength(2);
    expect(fake.fetched).toHaveLength(2);
  });

  it('shares one reload between concurrent callers and retries after a failure', async () => {
    let calls = 0;
    let fail = true;
    const source: WatchlistSource = {
      active: () => {
        calls++;
        return fail ? Promise.reject(new Error('down')) : Promise.resolve([header('a', 1)]);
      },
      targets: () => Promise.resolve(new Map([['a', [target(1, 1, 5)]]])),
    };
    const cache = createWatchlistCache(source, { refreshIntervalMs: 1000, now: () => 0 });
    await expect(Promise.all([cache.matcher(), cache.matcher()])).rejects.toThrow('down');
    expect(calls).toBe(1);
    fail = false;
    expect((await cache.matcher())(1, 1)).toHaveLength(1);
  });
});

describe('createWatchlistStep', () => {
  it('adds watchlistHits to every alert and keeps its fields', async () => {
    const fake = fakeSource([{ header: header('w', 1), targets: [target(150, 2, 2, 'SN host')] }]);
    const pipeline = Pipeline.start<{ alertId: string; ra: number; dec: number }>().batch(
      createWatchlistStep({ watchlists: createWatchlistCache(fake.source) }),
    );
    expect(pipeline.stageNames).toEqual(['watchlist']);
    const results = await pipeline.run([
      { alertId: '1', ra: 150.0001, dec: 2 },
      { alertId: '2', ra: 151, dec: 2 },
    ]);
    expect(results).toEqual([
      {
        kind: 'ok',
        value: {
          alertId: '1',
          ra: 150.0001,
          dec: 2,
          watchlistHits: [
            { watchlistId: 'w', targetLabel: 'SN host', distanceArcsec: expect.closeTo(0.36, 3) as unknown },
          ],
        },
      },
      { kind: 'ok', value: { alertId: '2', ra: 151, dec: 2, watchlistHits: [] } },
    ]);
  });
});
