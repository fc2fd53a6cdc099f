import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/pipeline/alert.ts';
import {
  archiveKeyOf,
  checkAlertBounds,
  DEFAULT_INGEST_LIMITS,
  MAX_JD,
  MIN_JD,
  normaliseAlert,
  type BoundsReason,
} from '../../../src/pipeline/decode/bounds.ts';
import {
  BASE_JD,
  detection,
  prvCandidate,
  rubinAlert,
  upperLimit,
  withPoints,
  ztfAlert,
} from '../../helpers/alerts.ts';

function reasonOf(alert: Alert): BoundsReason | 'ok' {
  const checked = checkAlertBounds(alert);
  return checked.kind === 'ok' ? 'ok' : checked.reason;
}

function checkedAlert(alert: Alert): Alert {
  const checked = checkAlertBounds(alert);
  if (checked.kind !== 'ok') throw new Error(`rejected: ${checked.reason} ${checked.detail}`);
  return checked.alert;
}

describe('checkAlertBounds', () => {
  it.each<[string, Partial<Alert>, BoundsReason | 'ok']>([
    ['a valid alert', {}, 'ok'],
    ['alert id 0', { alertId: 0n }, 'alert-id-out-of-range'],
    ['alert id -1', { alertId: -1n }, 'alert-id-out-of-range'],
    ['alert id -2^63', { alertId: -(2n ** 63n) }, 'alert-id-out-of-range'],
    ['alert id 2^63 - 1', { alertId: 2n ** 63n - 1n }, 'ok'],
    ['an empty objectId', { objectId: '' }, 'object-id-invalid'],
    ['a 65-character objectId', { objectId: 'Z'.repeat(65) }, 'object-id-invalid'],
    ['an objectId with a control character', { objectId: 'ZTF21\u0000abc' }, 'object-id-invalid'],
    ['ra NaN', { ra: NaN }, 'ra-invalid'],
    ['ra Infinity', { ra: Infinity }, 'ra-invalid'],
    ['dec 91', { dec: 91 }, 'dec-out-of-range'],
    ['dec -90.0001', { dec: -90.0001 }, 'dec-out-of-range'],
    ['dec NaN', { dec: NaN }, 'dec-out-of-range'],
    ['dec 90', { dec: 90 }, 'ok'],
    ['jd 0', { jd: 0 }, 'jd-out-of-range'],
    ['jd NaN', { jd: NaN }, 'jd-out-of-range'],
    ['jd before 1970', { jd: MIN_JD - 1 }, 'jd-out-of-range'],
    ['jd after 2106', { jd: MAX_JD + 1 }, 'jd-out-of-range'],
  ])('%s: %s', (_name, change, expected) => {
    expect(reasonOf({ ...ztfAlert(), ...change } as Alert)).toBe(expected);
  });

  it('rejects a history, a cutout or a string beyond the limits', () => {
    const alert = ztfAlert();
    const points = Array.from({ length: DEFAULT_INGEST_LIMITS.maxHistoryPoints + 1 }, (_x, i) =>
      upperLimit(BASE_JD - i - 1, 'g', 20),
    );
    expect(reasonOf(withPoints(alert, [alert.points[0]!, ...points]))).toBe('history-too-long');
    expect(reasonOf(withPoints(alert, [alert.points[0]!, ...points.slice(1)]))).toBe('ok');
    const big = Buffer.alloc(DEFAULT_INGEST_LIMITS.maxCutoutBytes + 1);
    expect(reasonOf({ ...alert, cutouts: { ...alert.cutouts, difference: big } })).toBe('cutout-too-large');
    const longName = ztfAlert({
      candidate: { ssnamenr: 'x'.repeat(DEFAULT_INGEST_LIMITS.maxStringLength + 1) },
    });
    const checked = checkAlertBounds(longName);
    expect(checked).toMatchObject({ kind: 'rejected', reason: 'string-too-long' });
    expect(checked.kind === 'rejected' && checked.detail).toContain('candidate.ssnamenr');
    const longPi = checkAlertBounds(
      ztfAlert({ prv: [prvCandidate({ jd: BASE_JD - 1, programpi: 'p'.repeat(2000) })] }),
    );
    expect(longPi).toMatchObject({ kind: 'rejected', reason: 'string-too-long' });
    expect(longPi.kind === 'rejected' && longPi.detail).toContain('prv_candidates[0].programpi is longer');
  });

  it('wraps ra into [0, 360) and makes -0 zero', () => {
    const ra = (value: number) => checkedAlert({ ...ztfAlert(), ra: value }).ra;
    expect(ra(360)).toBe(0);
    expect(ra(-10)).toBe(350);
    expect(ra(725)).toBe(5);
    expect(Object.is(ra(-0), 0)).toBe(true);
    expect(ra(123.456789)).toBe(123.456789);
  });

  it('makes implausible magnitudes, errors and fluxes null, and drops points without a usable time', () => {
    const base = ztfAlert();
    const alert = withPoints({ ...base, mag: -999, magErr: Infinity }, [
      { ...base.points[0]!, mag: -999, magErr: Infinity },
      detection(BASE_JD - 1, 'g', 18.5, 0.1),
      detection(BASE_JD - 2, 'r', Infinity, -1),
      { ...detection(BASE_JD - 3, 'r', 19, 0.1), jd: NaN },
      { ...detection(BASE_JD - 4, 'r', 19, 0.1), jd: 0 },
      { ...upperLimit(BASE_JD - 5, 'g', 99), sourceId: -1n },
    ]);
    const checked = checkedAlert(alert);
    expect(checked.mag).toBeNull();
    expect(checked.magErr).toBeNull();
    expect(checked.points.map((p) => [p.mag, p.magErr, p.limitMag])).toEqual([
      [null, null, base.points[0]!.limitMag],
      [18.5, 0.1, null],
      [null, null, null],
      [null, null, null],
    ]);
    expect(checked.points[3]!.sourceId).toBeNull();
    // The survey's own record is what it sent: the archive and the distributed message carry it unchanged.
    expect(checked.survey === 'ztf' && checked.ztf).toBe(base.ztf);
  });

  it.each([
    ['kept when both are plausible', 17.2, 0.03, [17.2, 0.03]],
    ['both null when the magnitude is implausible', 99, 0.03, [null, null]],
    ['both null when the error is not finite', 17.2, Infinity, [null, null]],
  ])('the DC magnitude and its error: %s', (_, dcMag, dcMagErr, expected) => {
    const base = ztfAlert();
    const checked = checkedAlert(withPoints(base, [{ ...base.points[0]!, dcMag, dcMagErr }]));
    expect([checked.points[0]!.dcMag, checked.points[0]!.dcMagErr]).toEqual(expected);
  });

  it('checks Rubin alerts alike (non-finite fluxes become null)', () => {
    const alert = rubinAlert();
    const withNaN = withPoints(alert, [{ ...alert.points[0]!, flux: NaN, fluxErr: -Infinity }]);
    const checked = checkedAlert(withNaN);
    expect([checked.points[0]!.flux, checked.points[0]!.fluxErr]).toEqual([null, null]);
    expect(reasonOf({ ...alert, jd: 0 })).toBe('jd-out-of-range');
  });

  it('leaves a valid alert as it was', () => {
    const alert = ztfAlert();
    expect(checkedAlert(alert)).toEqual(alert);
    expect(normaliseAlert(alert)).toEqual(alert);
  });
});

describe('archiveKeyOf', () => {
  it('keeps a negative id exact as its unsigned 64-bit pattern, distinct from every valid id', () => {
    expect(archiveKeyOf({ ...ztfAlert(), alertId: -1n }).alertId).toBe(2n ** 64n - 1n);
    expect(archiveKeyOf({ ...ztfAlert(), alertId: -(2n ** 63n) }).alertId).toBe(2n ** 63n);
    expect(archiveKeyOf({ ...ztfAlert(), alertId: 42n }).alertId).toBe(42n);
  });

  it('stores an objectId the API cannot name as empty', () => {
    expect(archiveKeyOf({ ...ztfAlert(), objectId: 'x'.repeat(100) }).objectId).toBe('');
    expect(archiveKeyOf(ztfAlert()).objectId).toBe(ztfAlert().objectId);
  });
});
