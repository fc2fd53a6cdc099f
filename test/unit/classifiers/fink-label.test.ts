import { describe, expect, it } from 'vitest';
import { finkLabel, isSimbadOverride } from '../../../src/pipeline/classifiers/fink/label.ts';
import type { FinkLabelInput } from '../../../src/pipeline/classifiers/fink/label.ts';

// A young, real, extragalactic-looking alert that no module flags.
const BASE: FinkLabelInput = {
  cdsxmatch: 'Unknown',
  roid: 0,
  mulens: 0,
  snn_snia_vs_nonia: 0,
  snn_sn_vs_all: 0,
  rf_snia_vs_nonia: 0,
  rf_kn_vs_nonkn: 0,
  ndethist: 5,
  drb: 0.99,
  classtar: 0.9,
  jd: 2460000,
  jdstarthist: 2459998,
  tracklet: '',
};

describe('finkLabel (fink-filters 7.45 extract_fink_classification_)', () => {
  it.each<[string, Partial<FinkLabelInput>, string]>([
    ['nothing flagged', {}, 'Unknown'],
    ['SuperNNova Ia > 0.5', { snn_snia_vs_nonia: 0.51 }, 'SN candidate'],
    ['SuperNNova SN > 0.5', { snn_sn_vs_all: 0.9 }, 'SN candidate'],
    ['exactly 0.5 is not above', { snn_sn_vs_all: 0.5 }, 'Unknown'],
    ['SN needs drb > 0.5', { snn_sn_vs_all: 0.9, drb: 0.5 }, 'Unknown'],
    ['SN needs classtar > 0.4', { snn_sn_vs_all: 0.9, classtar: 0.4 }, 'Unknown'],
    ['SN needs more than one detection', { snn_sn_vs_all: 0.9, ndethist: 1 }, 'Unknown'],
    ['SN needs <= 90 days', { snn_sn_vs_all: 0.9, jdstarthist: 2459909.9 }, 'Unknown'],
    ['SN needs a possible host', { snn_sn_vs_all: 0.9, cdsxmatch: 'Galaxy' }, 'SN candidate'],
    ['a null drb never passes', { snn_sn_vs_all: 0.9, drb: null }, 'Unknown'],
    ['early Ia: SN + forest > 0.5', { snn_sn_vs_all: 0.9, rf_snia_vs_nonia: 0.6 }, 'Early SN Ia candidate'],
    [
      'early Ia needs ndethist <= 20',
      { snn_sn_vs_all: 0.9, rf_snia_vs_nonia: 0.6, ndethist: 21 },
      'SN candidate',
    ],
    [
      'early Ia ignores the age cut',
      { snn_sn_vs_all: 0.9, rf_snia_vs_nonia: 0.6, jdstarthist: 2459800 },
      'Early SN Ia candidate',
    ],
    ['kilonova', { rf_kn_vs_nonkn: 0.7 }, 'Kilonova candidate'],
    ['kilonova needs < 5 days', { rf_kn_vs_nonkn: 0.7, jdstarthist: 2459995 }, 'Unknown'],
    ['kilonova needs ndethist < 20', { rf_kn_vs_nonkn: 0.7, ndethist: 20 }, 'Unknown'],
    ['microlensing: any mulens > 0', { mulens: 0.01 }, 'Microlensing candidate'],
    ['microlensing + SN: ambiguous', { mulens: 0.3, snn_sn_vs_all: 0.9 }, 'Ambiguous'],
    ['SSO candidate', { roid: 2 }, 'Solar System candidate'],
    ['SSO MPC', { roid: 3 }, 'Solar System MPC'],
    ['MPC blocks SN', { roid: 3, snn_sn_vs_all: 0.9 }, 'Solar System MPC'],
    ['MPC + microlensing: ambiguous', { roid: 3, mulens: 0.2 }, 'Ambiguous'],
    ['tracklet', { tracklet: 'TRCK_20231001_1' }, 'Tracklet'],
    ['tracklet beats kilonova', { tracklet: 'TRCK_1', rf_kn_vs_nonkn: 0.9 }, 'Tracklet'],
    [
      'early Ia then kilonova: kilonova wins (not ambiguous)',
      { snn_sn_vs_all: 0.9, rf_snia_vs_nonia: 0.6, rf_kn_vs_nonkn: 0.9 },
      'Kilonova candidate',
    ],
    ['a SIMBAD type overrides', { cdsxmatch: 'RRLyr', snn_sn_vs_all: 0.9 }, 'RRLyr'],
    ['SIMBAD overrides ambiguity too', { cdsxmatch: 'EB*', roid: 3, mulens: 0.2 }, 'EB*'],
    ['a galaxy does not override', { cdsxmatch: 'GalaxyInCluster' }, 'Unknown'],
    ['a failed cross-match does not override', { cdsxmatch: 'Fail 503' }, 'Unknown'],
  ])('%s', (_, change, label) => {
    expect(finkLabel({ ...BASE, ...change })).toBe(label);
  });

  it.each([
    ['Unknown', false],
    ['Transient', false],
    ['Fail', false],
    ['Fail 504', false],
    ['Galaxy', false],
    ['QSO', true],
    ['SN', true],
  ])('SIMBAD type %s overrides: %s', (type, expected) => {
    expect(isSimbadOverride(type)).toBe(expected);
  });
});
