import { describe, expect, it } from 'vitest';
import { ang2pix_nest, max_pixrad, order2nside, pix2ang_nest } from '@hscmap/healpix';
import { ALERT_HPX_ORDER, coneCellRanges, hpxOf } from '../../src/sky/healpix.ts';
import { nightOf } from '../../src/sky/night.ts';

const DEG = Math.PI / 180;

describe('nightOf', () => {
  it.each([
    ['ZTF at 04:00 UTC', 'ztf', '2023-10-17T04:00:00Z', '2023-10-17'],
    ['ZTF at 12:30 UTC', 'ztf', '2023-10-17T12:30:00Z', '2023-10-17'],
    ['Rubin before midnight UTC', 'lsst', '2026-01-10T23:30:00Z', '2026-01-10'],
    ['Rubin after midnight UTC, same night', 'lsst', '2026-01-11T08:00:00Z', '2026-01-10'],
  ] as const)('%s', (_, survey, iso, night) => {
    const jd = Date.parse(iso) / 86_400_000 + 2440587.5;
    expect(nightOf(survey, jd).toISOString().slice(0, 10)).toBe(night);
  });
});

describe('hpxOf', () => {
  it.each([
    [150.1, 2.2],
    [0.0001, -29.9],
    [359.9999, 89.9999],
    [12.5, -89.99],
    // Polar caps on a face edge: the library alone misplaces these (one near the equator, one a face away).
    [90, -89.99975],
    [180, 89.99975],
    [0, 75],
    [270, -80],
  ])('puts (%f, %f) in a cell whose centre is within the cell radius', (ra, dec) => {
    const nside = order2nside(ALERT_HPX_ORDER);
    const cell = hpxOf(ra, dec);
    expect(Number.isSafeInteger(cell)).toBe(true);
    const { theta, phi } = pix2ang_nest(nside, cell);
    const centre = { ra: (phi * 180) / Math.PI, dec: 90 - (theta * 180) / Math.PI };
    const cos =
      Math.sin(dec * DEG) * Math.sin(centre.dec * DEG) +
      Math.cos(dec * DEG) * Math.cos(centre.dec * DEG) * Math.cos((ra - centre.ra) * DEG);
    expect(Math.acos(Math.min(1, cos))).toBeLessThanOrEqual(max_pixrad(nside));
  });
});

describe('coneCellRanges', () => {
  it.each([
    [90, -89.99975, 5],
    [180, 89.99975, 2],
    [0, 0, 10],
    [359.9999, 10, 3600],
  ])('covers the cell of the centre and of points within the radius (%f, %f, %f")', (ra, dec, radius) => {
    const ranges = coneCellRanges(ra, dec, radius);
    const covered = (cell: number) => ranges.some(([from, to]) => cell >= from && cell < to);
    expect(covered(hpxOf(ra, dec))).toBe(true);
    const step = radius / 3600 / 2;
    for (const [dra, ddec] of [
      [step, 0],
      [0, step],
      [-step, 0],
      [0, -step],
    ] as const) {
      const d = Math.min(90, Math.max(-90, dec + ddec));
      expect(covered(hpxOf((ra + dra + 360) % 360, d)), `${ra + dra}, ${d}`).toBe(true);
    }
  });
});

describe('the HEALPix library at ALERT_HPX_ORDER', () => {
  it('gives each position the child of its parent cell, and a cell whose centre is near it', () => {
    const nside = order2nside(ALERT_HPX_ORDER);
    const parentNside = order2nside(ALERT_HPX_ORDER - 1);
    // A fixed grid over the sphere, poles and the RA wrap included.
    for (let dec = -89.5; dec <= 89.5; dec += 7.3) {
      for (let ra = 0.05; ra < 360; ra += 11.7) {
        const theta = (90 - dec) * DEG;
        const phi = ra * DEG;
        const cell = ang2pix_nest(nside, theta, phi);
        expect(Math.floor(cell / 4)).toBe(ang2pix_nest(parentNside, theta, phi));
        const centre = pix2ang_nest(nside, cell);
        const cos =
          Math.cos(theta) * Math.cos(centre.theta) +
          Math.sin(theta) * Math.sin(centre.theta) * Math.cos(phi - centre.phi);
        expect(Math.acos(Math.min(1, cos))).toBeLessThanOrEqual(max_pixrad(nside));
      }
    }
  });
});
