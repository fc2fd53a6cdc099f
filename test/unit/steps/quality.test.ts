import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/pipeline/alert.ts';
import type { RubinDiaSource } from '../../../src/pipeline/decode/rubin-avro.ts';
import type { ZtfCandidate } from '../../../src/pipeline/decode/ztf-avro.ts';
import type { StepResult } from '../../../src/pipeline/framework.ts';
import { QUALITY_DROP_REASONS, createQualityCutsStep } from '../../../src/pipeline/steps/quality.step.ts';
import { realRubinAlerts, realZtfAlerts, rubinAlert, ztfAlert } from '../../helpers/alerts.ts';

const qualityCuts = createQualityCutsStep<Alert>();

async function outcome(alert: Alert): Promise<string> {
  const result: StepResult<Alert> = await qualityCuts(alert);
  return result.kind === 'ok' ? 'ok' : `${result.kind}:${result.reason}`;
}

describe('createQualityCutsStep', () => {
  it('is a named function that passes a good alert through unchanged', async () => {
    expect(qualityCuts.name).toBe('qualityCuts');
    const alert = ztfAlert();
    const result = await qualityCuts(alert);
    expect(result).toEqual({ kind: 'ok', value: alert });
    expect(result.kind === 'ok' && result.value).toBe(alert);
  });

  it.each<[string, string, Partial<ZtfCandidate>]>([
    ['rb 0.9, nbad 0', 'ok', { rb: 0.9, nbad: 0 }],
    ['rb exactly 0.55', 'ok', { rb: 0.55, nbad: 0 }],
    ['rb just below 0.55', 'drop:rb-below-0.55', { rb: 0.549, nbad: 0 }],
    ['rb 0', 'drop:rb-below-0.55', { rb: 0, nbad: 0 }],
    ['rb null', 'drop:rb-missing', { rb: null, nbad: 0 }],
    ['rb NaN', 'drop:rb-missing', { rb: NaN, nbad: 0 }],
    ['nbad 1', 'drop:nbad-nonzero', { rb: 0.9, nbad: 1 }],
    ['nbad null', 'drop:nbad-missing', { rb: 0.9, nbad: null }],
    ['low rb and bad pixels: rb is checked first', 'drop:rb-below-0.55', { rb: 0.1, nbad: 3 }],
    ['g band (fid 1)', 'ok', { rb: 0.9, nbad: 0, fid: 1 }],
    ['r band (fid 2)', 'ok', { rb: 0.9, nbad: 0, fid: 2 }],
    ['i band (fid 3): Fink never processes it', 'drop:i-band', { rb: 0.9, nbad: 0, fid: 3 }],
    ['i band with bad pixels: nbad first', 'drop:nbad-nonzero', { rb: 0.9, nbad: 2, fid: 3 }],
  ])('ZTF %s -> %s', async (_name, expected, candidate) => {
    expect(await outcome(ztfAlert({ candidate }))).toBe(expected);
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['a clean S/N 20 detection', 'ok', {}],
    ['null flags (unset, not set)', 'ok', { isDipole: null, shape_flag: null, pixelFlags_bad: null }],
    ['flags absent from an older schema', 'ok', { shape_flag: undefined, pixelFlags_streak: undefined }],
    ['isDipole', 'drop:dipole', { isDipole: true }],
    ['pixelFlags_bad', 'drop:pixel-flags', { pixelFlags_bad: true }],
    ['pixelFlags_cr', 'drop:pixel-flags', { pixelFlags_cr: true }],
    ['pixelFlags_interpolated', 'drop:pixel-flags', { pixelFlags_interpolated: true }],
    ['any other pixelFlags*: saturatedCenter', 'drop:pixel-flags', { pixelFlags_saturatedCenter: true }],
    ['the general pixelFlags', 'drop:pixel-flags', { pixelFlags: true }],
    ['psfFlux_flag', 'drop:psf-flux-flag', { psfFlux_flag: true }],
    ['apFlux_flag', 'drop:ap-flux-flag', { apFlux_flag: true }],
    ['forced_PsfFlux_flag', 'drop:forced-psf-flux-flag', { forced_PsfFlux_flag: true }],
    ['forced_PsfFlux_flag_edge', 'drop:forced-psf-flux-edge', { forced_PsfFlux_flag_edge: true }],
    ['shape_flag', 'drop:shape-flag', { shape_flag: true }],
    ['centroid_flag', 'drop:centroid-flag', { centroid_flag: true }],
    ['a flag not in the list (psfFlux_flag_edge)', 'ok', { psfFlux_flag_edge: true }],
    ['psfFlux null', 'drop:psf-flux-invalid', { psfFlux: null }],
    ['psfFlux NaN', 'drop:psf-flux-invalid', { psfFlux: NaN }],
    ['psfFluxErr null', 'drop:psf-flux-invalid', { psfFluxErr: null }],
    ['psfFluxErr 0', 'drop:psf-flux-invalid', { psfFluxErr: 0 }],
    ['negative psfFlux', 'drop:psf-flux-negative', { psfFlux: -20_000 }],
    ['zero psfFlux', 'drop:snr-below-6', { psfFlux: 0 }],
    ['S/N 5.99', 'drop:snr-below-6', { psfFlux: 5_990, psfFluxErr: 1_000 }],
    ['S/N exactly 6', 'ok', { psfFlux: 6_000, psfFluxErr: 1_000 }],
    ['dipole and negative: flags are checked first', 'drop:dipole', { isDipole: true, psfFlux: -5 }],
    [
      'pixel flag and shape flag: pixel flags first',
      'drop:pixel-flags',
      { pixelFlags_cr: true, shape_flag: true },
    ],
  ])('Rubin %s -> %s', async (_name, expected, diaSource) => {
    expect(await outcome(rubinAlert({ diaSource }))).toBe(expected);
  });

  it('sends a Rubin alert without a diaSource to the dead-letter topic', async () => {
    const alert = rubinAlert();
    const broken: Alert = { ...alert, lsst: { ...alert.lsst, diaSource: null as unknown as RubinDiaSource } };
    expect(await outcome(broken)).toBe('dlq:rubin-diasource-missing');
  });

  it('drops only with reasons it declares', () => {
    expect(new Set(QUALITY_DROP_REASONS).size).toBe(QUALITY_DROP_REASONS.length);
    expect(QUALITY_DROP_REASONS).toContain('rb-below-0.55');
    expect(QUALITY_DROP_REASONS).toContain('snr-below-6');
  });
});

describe('quality cuts on real alerts', () => {
  it('keeps 570 of the 611 ZTF alerts; the other 41 have rb < 0.55', async () => {
    const counts: Record<string, number> = {};
    for (const { alert } of realZtfAlerts()) {
      const key = await outcome(alert);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    expect(counts).toEqual({ ok: 570, 'drop:rb-below-0.55': 41 });
  });

  it('keeps 7 of the 25 real Rubin alerts (January 2026)', async () => {
    const alerts = await realRubinAlerts();
    expect(alerts).toHaveLength(25);
    const counts: Record<string, number> = {};
    for (const alert of alerts) {
      const key = await outcome(alert);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    expect(counts).toEqual({
      ok: 7,
      'drop:snr-below-6': 10,
      'drop:dipole': 4,
      'drop:shape-flag': 3,
      'drop:pixel-flags': 1,
    });
  });
});
