import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRubinParquet } from '../../datasim/rubin.ts';
import { loadConfig } from '../../src/config.ts';
import { MJD_TO_JD, fluxErrToMagErr, fluxToMag } from '../../src/pipeline/alert.ts';
import { rubinBand, rubinObjectId, rubinToAlert } from '../../src/pipeline/decode/rubin-alert.ts';
import { loadRubinSchema } from '../../src/pipeline/decode/rubin-avro.ts';
import type { RubinAlert, RubinDiaForcedSource } from '../../src/pipeline/decode/rubin-avro.ts';

const LSST_DIR = path.join(loadConfig().sharedDir, 'datasim', 'lsst');
const PARQUET = path.join(LSST_DIR, 'rubin-2026-01-v10_0.parquet');

describe('fluxToMag', () => {
  it.each([
    [1, 31.4],
    [10, 28.9],
    [100, 26.4],
    [10_000, 21.4],
    // 3631 Jy is AB magnitude 0 by definition; 31.4 is the zero point 31.400066 rounded.
    [3631e9, -0.000066],
    [1549.57861328125, 23.424466],
  ])('%f nJy is AB %f', (flux, mag) => {
    expect(fluxToMag(flux)).toBeCloseTo(mag, 4);
  });

  it.each([0, -1, -2497.62255859375])('%f nJy has no magnitude', (flux) => {
    expect(fluxToMag(flux)).toBeNull();
  });

  it.each([
    [100, 10, 0.108574],
    [1549.57861328125, 281.33355712890625, 0.197121],
    [-5, 1, null],
  ])('flux %f ± %f gives a magnitude error of %s', (flux, err, magErr) => {
    const got = fluxErrToMagErr(flux, err);
    if (magErr === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(magErr, 5);
  });
});

describe('rubinToAlert on the real alerts', () => {
  let alerts: RubinAlert[];
  let schemaJson: string;
  const find = (diaSourceId: bigint): RubinAlert => {
    const found = alerts.find((alert) => alert.diaSourceId === diaSourceId);
    if (found === undefined) throw new Error(`alert ${diaSourceId} is not in ${PARQUET}`);
    return found;
  };

  beforeAll(async () => {
    alerts = await readRubinParquet(PARQUET);
    schemaJson = loadRubinSchema(path.join(LSST_DIR, 'schema', '10', '0')).json;
  });

  it('maps an alert with history field by field', () => {
    // The alert of the data set with the longest single-band history: 16 earlier detections, all in i.
    const record = find(169813006131658851n);
    const alert = rubinToAlert(record, schemaJson);
    expect(alert.survey).toBe('lsst');
    expect(alert.lsst).toBe(record);
    expect(alert.schemaJson).toBe(schemaJson);
    expect(alert.alertId).toBe(169813006131658851n);
    // Associated with an object first seen ~38 days earlier: the objectId is not the alert's own source id.
    expect(alert.objectId).toBe('169645854020337671');
    expect(alert.ra).toBe(59.482531729321124);
    expect(alert.dec).toBe(-48.08973373243179);
    expect(alert.jd).toBeCloseTo(2461041.721243379, 8);
    expect(alert.band).toBe('i');
    // psfFlux 1549.58 nJy, psfFluxErr 281.33 nJy.
    expect(alert.mag).toBeCloseTo(23.424466, 5);
    expect(alert.magErr).toBeCloseTo(0.197121, 5);

    expect(alert.points).toHaveLength(1 + 16 + 0);
    const [current, first] = alert.points;
    expect(current).toMatchObject({ kind: 'detection', sourceId: 169813006131658851n, negative: false });
    expect(current?.flux).toBe(1549.57861328125);
    expect(first).toMatchObject({ kind: 'detection', band: 'i', sourceId: 169645854020337671n });
    expect(first?.jd).toBeCloseTo(61003.32115570824 + MJD_TO_JD, 8);
    expect(first?.mag).toBeCloseTo(23.345807, 5);
    const history = alert.points.slice(1).map((point) => point.jd);
    expect(history).toEqual([...history].sort((a, b) => a - b));
    expect(history.every((jd) => jd < alert.jd)).toBe(true);

    expect(alert.cutouts.science).toBe(record.cutoutScience);
    expect(alert.cutouts.template).toBe(record.cutoutTemplate);
    expect(alert.cutouts.difference).toBe(record.cutoutDifference);
    expect(alert.cutouts.science?.subarray(0, 6).toString('latin1')).toBe('SIMPLE');
  });

  it('counts 1 + prvDiaSources + prvDiaForcedSources points for every alert', () => {
    for (const record of alerts) {
      const expected = 1 + (record.prvDiaSources?.length ?? 0) + (record.prvDiaForcedSources?.length ?? 0);
      expect(rubinToAlert(record, schemaJson).points).toHaveLength(expected);
    }
  });

  it('keys a solar-system source without a diaObject by its ssObjectId', () => {
    const record = find(169813007065939974n);
    expect(record.diaSource.diaObjectId).toBe(0n); // the stream sends 0, not null
    const alert = rubinToAlert(record, schemaJson);
    expect(alert.objectId).toBe('ss21163611661088578');
    expect(alert.points).toHaveLength(1);
  });

  it('gives a negative difference flux no magnitude', () => {
    const alert = rubinToAlert(find(169813007074328578n), schemaJson);
    expect(alert.mag).toBeNull();
    expect(alert.magErr).toBeNull();
    expect(alert.points[0]).toMatchObject({ negative: true, mag: null, flux: -2497.62255859375 });
  });

  it('adds forced photometry as forced points, magnitudes only for positive fluxes', () => {
    // The 25 real alerts carry no forced photometry (prvDiaForcedSources is empty or null); add some to one.
    const record = find(169813006111211588n);
    const forced = (mjd: number, flux: number | null, band: string | null = 'r'): RubinDiaForcedSource => ({
      diaForcedSourceId: 1n,
      diaObjectId: record.diaSource.diaObjectId ?? 0n,
      ra: record.diaSource.ra,
      dec: record.diaSource.dec,
      visit: 1n,
      detector: 1,
      psfFlux: flux,
      psfFluxErr: 50,
      midpointMjdTai: mjd,
      scienceFlux: null,
      scienceFluxErr: null,
      band,
      timeProcessedMjdTai: mjd,
      timeWithdrawnMjdTai: null,
    });
    const withForced: RubinAlert = {
      ...record,
      prvDiaForcedSources: [
        forced(61030, 1000),
        forced(61000, -200),
        forced(61010, null),
        forced(61020, 5, 'w'),
      ],
    };
    const alert = rubinToAlert(withForced, schemaJson);
    // 1 + 2 earlier detections + 2 usable forced points (no flux, unknown band: skipped).
    expect(alert.points).toHaveLength(1 + 2 + 2);
    const forcedPoints = alert.points.filter((point) => point.kind === 'forced');
    expect(forcedPoints.map((point) => point.jd - MJD_TO_JD)).toEqual([61000, 61030]);
    expect(forcedPoints[0]).toMatchObject({
      mag: null,
      negative: true,
      flux: -200,
      sourceId: null,
      band: 'r',
    });
    expect(forcedPoints[1]?.mag).toBeCloseTo(23.9, 6);
    expect(alert.points[0]?.sourceId).toBe(record.diaSourceId);
    const times = alert.points.slice(1).map((point) => point.jd);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

describe('rubinObjectId and rubinBand', () => {
  it.each([
    [123n, 456n, '123'],
    [123n, 0n, '123'],
    [0n, 456n, 'ss456'],
    [null, 456n, 'ss456'],
    [null, null, 'dia9'],
  ])('diaObjectId %s, ssObjectId %s -> %s', (diaObjectId, ssObjectId, objectId) => {
    const source = { diaSourceId: 9n, diaObjectId, ssObjectId } as Parameters<typeof rubinObjectId>[0];
    expect(rubinObjectId(source)).toBe(objectId);
  });

  it.each([
    ['u', 'u'],
    ['y', 'y'],
    ['w', undefined],
    [null, undefined],
  ])('band %s -> %s', (band, expected) => {
    expect(rubinBand(band)).toBe(expected);
  });
});
