// The ZTF mapping on a real alert: negative detections kept as detections, with Fink's DC (apparent) magnitude.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PhotometryPoint } from '../../src/pipeline/alert.ts';
import { ztfToAlert } from '../../src/pipeline/decode/ztf-alert.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import type { ZtfAlert } from '../../src/pipeline/decode/ztf-avro.ts';
import { sharedPath } from '../helpers/shared-data.ts';

// ZTF18aawsnob (2023-10): a positive candidate, 15 detections in its history of which 3 negative, 7 upper limits.
const FILE = ['datasim', 'ztf', '2023-10', 'part-00005-6a13ac52-6ec9-4ea5-9df7-241ef7f49431-c000.avro'];

function bySource(points: readonly PhotometryPoint[], candid: string): PhotometryPoint {
  const found = points.find((p) => p.sourceId?.toString() === candid);
  if (found === undefined) throw new Error(`no point with candid ${candid}`);
  return found;
}

describe('ztfToAlert on a real alert with negative detections', () => {
  let record: ZtfAlert;
  beforeAll(() => {
    record = createZtfDecoder().decode(readFileSync(sharedPath(...FILE)));
  });

  it('keeps every detection, negative ones included, and every upper limit', () => {
    const { points } = ztfToAlert(record, '{}');
    expect(record.objectId).toBe('ZTF18aawsnob');
    expect(points.filter((p) => p.kind === 'detection')).toHaveLength(16);
    expect(points.filter((p) => p.kind === 'detection' && p.negative)).toHaveLength(3);
    expect(points.filter((p) => p.kind === 'upper-limit')).toHaveLength(7);
    expect(points.filter((p) => p.kind === 'upper-limit' && (p.negative || p.dcMag !== null))).toEqual([]);
  });

  // Expected values computed by hand (Python, math module) from fink-utils dc_mag's formulas on the alert's
  // magpsf, sigmapsf, magnr, sigmagnr and isdiffpos:
  //   diff = 10^(-0.4 magpsf), ref = 10^(-0.4 magnr), dc = ref + diff ('t') or ref - diff ('f'),
  //   sig = hypot(sigmapsf / 1.0857 * diff, sigmagnr / 1.0857 * ref), dcmag = -2.5 log10(dc),
  //   dcmagErr = sig / dc * 1.0857.
  it.each([
    ['the candidate (t, g)', '2481154742515015002', false, 15.578222468694376, 0.014904491849551098],
    ['a negative g detection (f)', '2467171652515010002', true, 15.93518254497129, 0.019793158071720045],
    ['a negative r detection (f)', '2467289952515010010', true, 14.611945043527417, 0.021021306876849433],
  ])('%s: DC magnitude and error as Fink computes them', (_, candid, negative, dcMag, dcMagErr) => {
    const point = bySource(ztfToAlert(record, '{}').points, candid);
    expect(point.kind).toBe('detection');
    expect(point.negative).toBe(negative);
    expect(point.dcMag).toBeCloseTo(dcMag, 9);
    expect(point.dcMagErr).toBeCloseTo(dcMagErr, 9);
  });

  it('a negative detection is fainter in DC magnitude than its reference source, a positive one brighter', () => {
    for (const point of ztfToAlert(record, '{}').points) {
      if (point.kind !== 'detection') continue;
      const prv = [record.candidate, ...(record.prv_candidates ?? [])].find(
        (p) => p.candid === point.sourceId,
      );
      const magnr = prv?.magnr ?? null;
      expect(magnr).not.toBeNull();
      if (point.negative) expect(point.dcMag!).toBeGreaterThan(magnr!);
      else expect(point.dcMag!).toBeLessThan(magnr!);
    }
  });

  it.each([
    ['no reference source (magnr null)', { magnr: null }],
    ['no reference error (sigmagnr null)', { sigmagnr: null }],
    ['no reference source (magnr < 0)', { magnr: -999 }],
    ['a negative difference brighter than the reference (flux < 0)', { isdiffpos: 'f', magpsf: 15 }],
    [
      'a negative difference as bright as the reference (flux 0)',
      { isdiffpos: 'f', magpsf: 15.807000160217285 },
    ],
  ])('%s: null DC magnitude and error, still a detection', (_, change) => {
    const changed: ZtfAlert = { ...record, candidate: { ...record.candidate, ...change } };
    const current = ztfToAlert(changed, '{}').points[0]!;
    expect(current).toMatchObject({ kind: 'detection', dcMag: null, dcMagErr: null });
    expect(current.mag).toBe(changed.candidate.magpsf);
  });
});
