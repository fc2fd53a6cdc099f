import { describe, expect, it } from 'vitest';
import type { AlertFilterSpec } from '../../../src/storage/alert-filter.ts';
import {
  compileFilterPredicate,
  compileFilterTruth,
  type FilterRecord,
} from '../../../src/filters/predicate.ts';

const BASE: FilterRecord = {
  survey: 'ztf',
  alertId: 2_400_000_000_000_000_001n,
  objectId: 'ZTF23aaaaaaa',
  jd: 2460230.5,
  ra: 150,
  dec: 2,
  band: 'r',
  mag: 18.5,
  magErr: 0.05,
  roid: 0,
  label: 'SN candidate',
  ndet: 4,
  nlim: 2,
  firstJd: 2460225.5,
  lastJd: 2460230.5,
  peakMag: 18.2,
  colorGr: 0.3,
  rate: -0.1,
  rising: true,
  ssName: '',
  crossmatches: [{ catalog: 'gcvs', type: 'EA' }],
  watchlistHits: [{ watchlistId: 'wl-1' }],
};

const NULLS: FilterRecord = {
  ...BASE,
  mag: null,
  magErr: null,
  peakMag: null,
  colorGr: null,
  rate: null,
  rising: null,
  crossmatches: [],
  watchlistHits: [],
};

const cases: [string, AlertFilterSpec, FilterRecord, boolean | null][] = [
  ['empty node', {}, BASE, true],
  ['survey in', { survey: ['ztf'] }, BASE, true],
  ['survey not in', { survey: ['lsst'] }, BASE, false],
  ['band in', { band: ['g', 'r'] }, BASE, true],
  ['label in', { label: ['Unknown'] }, BASE, false],
  ['roid in', { roid: [0, 1] }, BASE, true],
  ['compare MAG LT', { compare: [{ field: 'MAG', op: 'LT', value: 19 }] }, BASE, true],
  ['compare MAG GTE', { compare: [{ field: 'MAG', op: 'GTE', value: 19 }] }, BASE, false],
  ['compare NDET EQ', { compare: [{ field: 'NDET', op: 'EQ', value: 4 }] }, BASE, true],
  ['compare NE', { compare: [{ field: 'ROID', op: 'NE', value: 0 }] }, BASE, false],
  ['compare on null is unknown', { compare: [{ field: 'MAG', op: 'LT', value: 19 }] }, NULLS, null],
  ['NE on null is unknown', { compare: [{ field: 'RATE', op: 'NE', value: 1 }] }, NULLS, null],
  ['not of unknown is unknown', { not: { compare: [{ field: 'MAG', op: 'LT', value: 18 }] } }, NULLS, null],
  ['not of false', { not: { survey: ['lsst'] } }, BASE, true],
  ['mag range in', { mag: { min: 18, max: 19 } }, BASE, true],
  ['mag range bounds are inclusive', { mag: { min: 18.5, max: 18.5 } }, BASE, true],
  ['mag range only max', { mag: { max: 18 } }, BASE, false],
  ['mag range on null', { mag: { min: 0 } }, NULLS, null],
  ['rate range', { rate: { max: 0 } }, BASE, true],
  ['since first detection', { sinceFirstDetectionDays: { min: 4, max: 5 } }, BASE, true],
  ['since first detection out', { sinceFirstDetectionDays: { max: 4.9 } }, BASE, false],
  ['rising true', { rising: true }, BASE, true],
  ['rising false', { rising: false }, BASE, false],
  ['rising on null', { rising: false }, NULLS, null],
  ['cone hit', { cone: { ra: 150.0001, dec: 2, radiusArcsec: 1 } }, BASE, true],
  ['cone miss', { cone: { ra: 150.001, dec: 2, radiusArcsec: 1 } }, BASE, false],
  [
    'cone across ra 0',
    { cone: { ra: 359.9999, dec: 0, radiusArcsec: 1 } },
    { ...BASE, ra: 0.0001, dec: 0 },
    true,
  ],
  [
    'cone at the pole',
    { cone: { ra: 10, dec: 90, radiusArcsec: 10 } },
    { ...BASE, ra: 190, dec: 89.999 },
    true,
  ],
  ['crossmatch any', { crossmatch: {} }, BASE, true],
  ['crossmatch any, none', { crossmatch: {} }, NULLS, false],
  ['crossmatch catalog', { crossmatch: { catalog: 'gcvs' } }, BASE, true],
  ['crossmatch catalog and type', { crossmatch: { catalog: 'gcvs', type: 'RR' } }, BASE, false],
  ['watchlist hit', { watchlist: 'wl-1' }, BASE, true],
  ['watchlist miss', { watchlist: 'wl-2' }, BASE, false],
  ['keys are AND-ed', { survey: ['ztf'], band: ['g'] }, BASE, false],
  ['and', { and: [{ survey: ['ztf'] }, { band: ['r'] }] }, BASE, true],
  ['and with false and unknown is false', { and: [{ mag: { min: 0 } }, { survey: ['lsst'] }] }, NULLS, false],
  ['and with true and unknown is unknown', { and: [{ mag: { min: 0 } }, { survey: ['ztf'] }] }, NULLS, null],
  ['or with true and unknown is true', { or: [{ mag: { min: 0 } }, { survey: ['ztf'] }] }, NULLS, true],
  ['or with false and unknown is unknown', { or: [{ mag: { min: 0 } }, { survey: ['lsst'] }] }, NULLS, null],
  [
    'not (unknown and false) is true',
    { not: { and: [{ mag: { min: 0 } }, { survey: ['lsst'] }] } },
    NULLS,
    true,
  ],
];

describe('compileFilterTruth', () => {
  it.each(cases)('%s', (_name, filter, record, expected) => {
    expect(compileFilterTruth(filter)(record)).toBe(expected);
    // Only a definite true selects, as a SQL WHERE does.
    expect(compileFilterPredicate(filter)(record)).toBe(expected === true);
  });
});
