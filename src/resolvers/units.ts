// Units and time scales, said once and used in the schema's descriptions: a client reading `jd` or `mag` needs
// to know which clock and which magnitude system without reading the code.

/** Every `jd` and JD argument of the API. */
export const JD_SCALE =
  'Julian date, days. ZTF: candidate.jd as ZTF sends it, UTC, start of the exposure. Rubin: midpointMjdTai + ' +
  '2400000.5, TAI (37 s ahead of UTC, not converted, as Fink does), middle of the exposure.';

/** Every magnitude of the API. */
export const MAGNITUDE_SYSTEM =
  'AB magnitude. ZTF: magpsf, PSF-fit on the difference image, photometrically calibrated (AB). Rubin: ' +
  '31.4 - 2.5 log10(psfFlux / nJy), only for a positive flux.';

/** Upper limits. */
export const UPPER_LIMIT =
  'An upper limit is an epoch without a detection: the source was fainter than limitMag there (ZTF: ' +
  'diffmaglim, the 5-sigma limiting magnitude of the difference image, AB). Rubin alerts carry forced ' +
  'photometry (a flux, possibly negative, in nJy) instead.';

/** Fluxes. */
export const FLUX_UNIT = 'Difference-image flux, nJy (Rubin psfFlux / forced psfFlux); null for ZTF.';

/** Positions. */
export const POSITION = 'degrees, ICRS (J2000).';
