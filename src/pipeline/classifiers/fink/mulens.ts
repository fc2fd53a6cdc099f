// Microlensing score as fink-science 7.4.0 computes `mulens` (ztf/microlensing/processor.py):
//
// - scored only when ndethist < 100 and the alert carries at least 20 points with a magnitude (else 0);
// - per band g (fid 1) and r (fid 2) with at least 10 such points: the DC magnitudes and errors (Fink's dc_mag,
//   NaN kept where it is NaN), LIA's 47 statistics (lia.ts), and the random forest rf.sav (classes CONSTANT,
//   CV, ML, VARIABLE; LIA's PCA, pca.sav, is loaded by Fink but not used by its predict);
// - score = mean of the two bands' ML probabilities when both bands are classified ML (the most probable
//   class), else 0; a band with fewer than 10 points is not ML.
import { liaStatistics } from './lia.ts';
import { countValid, dcMag } from './photometry.ts';
import type { ZtfLightCurve } from './photometry.ts';
import type { RandomForest } from './forest.ts';

export interface MulensBand {
  stats: number[];
  /** The forest's probabilities in its class order, and the most probable class. */
  proba: Float64Array;
  label: string;
}

export interface MulensResult {
  score: number;
  /** Per fid (1, 2), when the band was classified. */
  bands: Map<number, MulensBand>;
}

export function mulensApplies(lc: ZtfLightCurve, ndethist: number | null): boolean {
  return ndethist !== null && ndethist < 100 && countValid(lc.magpsf) >= 20;
}

export function mulensScore(forest: RandomForest, lc: ZtfLightCurve, ndethist: number | null): MulensResult {
  const bands = new Map<number, MulensBand>();
  if (!mulensApplies(lc, ndethist)) return { score: 0, bands };
  const mlIndex = forest.classes.indexOf('ML');
  for (const fid of [1, 2]) {
    const mag: number[] = [];
    const err: number[] = [];
    for (let i = 0; i < lc.jd.length; i++) {
      if (lc.fid[i] !== fid || Number.isNaN(lc.magpsf[i]!)) continue;
      const dc = dcMag(lc.magpsf[i]!, lc.sigmapsf[i]!, lc.magnr[i]!, lc.sigmagnr[i]!, lc.isdiffpos[i]!);
      mag.push(dc.mag);
      err.push(dc.magErr);
    }
    if (mag.length < 10) continue;
    const stats = liaStatistics(mag, err);
    const proba = forest.predictProba(stats);
    let best = 0;
    for (let k = 1; k < proba.length; k++) if (proba[k]! > proba[best]!) best = k;
    bands.set(fid, { stats, proba, label: String(forest.classes[best]) });
  }
  const g = bands.get(1);
  const r = bands.get(2);
  const score = g?.label === 'ML' && r?.label === 'ML' ? (g.proba[mlIndex]! + r.proba[mlIndex]!) / 2 : 0;
  return { score, bands };
}
