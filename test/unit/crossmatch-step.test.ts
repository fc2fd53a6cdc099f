import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/framework.ts';
import { createCrossmatchStep } from '../../src/pipeline/steps/crossmatch.step.ts';
import type { CatalogMatch, CatalogMatcher, SkyPosition } from '../../src/storage/catalog-store.ts';
import { StorageError } from '../../src/storage/clickhouse.ts';

interface TestAlert {
  objectId: string;
  ra: number;
  dec: number;
  mag: number;
}

const GCVS_MATCH: CatalogMatch = {
  catalog: 'gcvs',
  sourceId: '11241',
  distanceArcsec: 0.8,
  type: 'RRAB',
  overriding: false,
};
const SIMBAD_MATCH: CatalogMatch = {
  catalog: 'simbad',
  sourceId: 'V* RR Lyr',
  distanceArcsec: 0.3,
  type: 'RRLyr',
  overriding: true,
};

/** Answers from a table keyed by "ra,dec", and records every call. */
function fakeMatcher(table: Record<string, CatalogMatch[]>): CatalogMatcher & { calls: SkyPosition[][] } {
  const calls: SkyPosition[][] = [];
  return {
    calls,
    match: (positions) => {
      calls.push([...positions]);
      return Promise.resolve(positions.map(({ ra, dec }) => table[`${ra},${dec}`] ?? []));
    },
  };
}

const alert = (objectId: string, ra: number, dec: number): TestAlert => ({ objectId, ra, dec, mag: 18.5 });

describe('createCrossmatchStep', () => {
  it('is a batch step named crossmatch', () => {
    const step = createCrossmatchStep<TestAlert>({ catalogs: fakeMatcher({}) });
    expect(step.name).toBe('crossmatch');
    expect(Pipeline.start<TestAlert>().batch(step).stageNames).toEqual(['crossmatch']);
  });

  it('adds each alert its matches, in input order, keeping every other field', async () => {
    const matcher = fakeMatcher({ '10,20': [GCVS_MATCH, SIMBAD_MATCH], '30,-40': [GCVS_MATCH] });
    const step = createCrossmatchStep<TestAlert>({ catalogs: matcher });
    const inputs = [alert('a', 10, 20), alert('b', 0, 0), alert('c', 30, -40)];
    const results = await step(inputs);
    expect(results).toEqual([
      { kind: 'ok', value: { ...inputs[0], crossmatches: [GCVS_MATCH, SIMBAD_MATCH] } },
      { kind: 'ok', value: { ...inputs[1], crossmatches: [] } },
      { kind: 'ok', value: { ...inputs[2], crossmatches: [GCVS_MATCH] } },
    ]);
    // The input alerts are not modified.
    expect(inputs[0]).not.toHaveProperty('crossmatches');
  });

  it('asks the matcher once per batch, with the positions only', async () => {
    const matcher = fakeMatcher({});
    const step = createCrossmatchStep<TestAlert>({ catalogs: matcher });
    await step([alert('a', 1, 2), alert('b', 3, 4)]);
    expect(matcher.calls).toEqual([
      [
        { ra: 1, dec: 2 },
        { ra: 3, dec: 4 },
      ],
    ]);
  });

  it('writes exactly the five crossmatch fields, whatever else the matcher returns', async () => {
    const noisy = { ...GCVS_MATCH, generation: 7, hpx: 123 } as CatalogMatch;
    const step = createCrossmatchStep<TestAlert>({ catalogs: fakeMatcher({ '1,1': [noisy] }) });
    const [result] = await step([alert('a', 1, 1)]);
    expect(result?.kind === 'ok' && Object.keys(result.value.crossmatches[0]!).sort()).toEqual([
      'catalog',
      'distanceArcsec',
      'overriding',
      'sourceId',
      'type',
    ]);
  });

  it('does not call the matcher for an empty batch', async () => {
    const matcher = fakeMatcher({});
    expect(await createCrossmatchStep<TestAlert>({ catalogs: matcher })([])).toEqual([]);
    expect(matcher.calls).toHaveLength(0);
  });

  it('lets a storage failure through, so the batch is retried and no offset is committed', async () => {
    const failing: CatalogMatcher = {
      match: () => Promise.reject(new StorageError('connect ECONNREFUSED', 'unavailable')),
    };
    const step = createCrossmatchStep<TestAlert>({ catalogs: failing });
    await expect(step([alert('a', 1, 1)])).rejects.toMatchObject({ retriable: true });
  });

  it('treats a matcher answering for the wrong number of positions as a bug', async () => {
    const broken: CatalogMatcher = { match: () => Promise.resolve([[]]) };
    const step = createCrossmatchStep<TestAlert>({ catalogs: broken });
    await expect(step([alert('a', 1, 1), alert('b', 2, 2)])).rejects.toThrow(
      'catalog matcher returned 1 results for 2 positions',
    );
  });

  it('runs inside a pipeline after a per-alert stage', async () => {
    const step = createCrossmatchStep<TestAlert>({ catalogs: fakeMatcher({ '10,20': [SIMBAD_MATCH] }) });
    const pipeline = Pipeline.start<TestAlert>()
      .step(function brighten(a: TestAlert) {
        return { kind: 'ok' as const, value: { ...a, mag: a.mag - 1 } };
      })
      .batch(step);
    const [result] = await pipeline.run([alert('a', 10, 20)]);
    expect(result).toEqual({
      kind: 'ok',
      value: { objectId: 'a', ra: 10, dec: 20, mag: 17.5, crossmatches: [SIMBAD_MATCH] },
    });
  });
});
