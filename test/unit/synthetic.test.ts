import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { SYNTHETIC_KINDS, generateSyntheticAlerts, writeSyntheticAlerts } from '../../datasim/synthetic.ts';
import type { SyntheticAlert, SyntheticKind } from '../../datasim/synthetic.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import type { ZtfAlert } from '../../src/pipeline/decode/ztf-avro.ts';

const COUNT = 2000;

interface Generated extends SyntheticAlert {
  alert: ZtfAlert;
}

function passesQualityCut(alert: ZtfAlert): boolean {
  return (alert.candidate.rb ?? 0) >= 0.55 && alert.candidate.nbad === 0;
}

describe('generateSyntheticAlerts', () => {
  let generated: Generated[];
  let parsedSchemas: number;
  const ofKind = (kind: SyntheticKind) => generated.filter((g) => g.kind === kind);

  beforeAll(() => {
    const decoder = createZtfDecoder();
    generated = [...generateSyntheticAlerts({ seed: 1, count: COUNT })].map((g) => ({
      ...g,
      alert: decoder.decode(g.bytes),
    }));
    parsedSchemas = decoder.parsedSchemas;
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const bytes = (seed: number) => [...generateSyntheticAlerts({ seed, count: 50 })].map((g) => g.bytes);
    const a = bytes(7);
    const b = bytes(7);
    const c = bytes(8);
    expect(a.every((buf, i) => buf.equals(b[i] ?? Buffer.alloc(0)))).toBe(true);
    expect(a.filter((buf, i) => buf.equals(c[i] ?? Buffer.alloc(0)))).toHaveLength(0);
  });

  it('yields the count asked for, all decodable with the embedded 4.02 schema', () => {
    expect(generated).toHaveLength(COUNT);
    expect(parsedSchemas).toBe(1);
    for (const g of generated) {
      expect(g.alert.candid).toBe(g.candid);
      expect(g.alert.objectId).toBe(g.objectId);
      expect(g.alert.schemavsn).toBe('4.02');
    }
  });

  it('gives unique, ZTF-shaped candids and objectIds', () => {
    expect(new Set(generated.map((g) => g.candid)).size).toBe(COUNT);
    for (const g of generated) {
      expect(g.candid).toBeGreaterThan(2n ** 53n);
      expect(String(g.candid)).toMatch(/^\d{19}$/);
      expect(g.objectId).toMatch(/^ZTF\d{2}[a-z]{7}$/);
    }
    // One objectId is one object: one kind, one position (within ZTF's 1.5" association radius).
    const byObject = groupBy(generated, (g) => g.objectId);
    expect(byObject.size).toBeGreaterThan(COUNT / 4);
    for (const alerts of byObject.values()) {
      const first = alerts[0]?.alert.candidate;
      for (const { kind, alert } of alerts) {
        expect(kind).toBe(alerts[0]?.kind);
        expect(angularSeparationArcsec(alert.candidate, first ?? alert.candidate)).toBeLessThan(1.5);
      }
    }
  });

  it('produces every kind, with several alerts for most objects that are not asteroids', () => {
    for (const kind of SYNTHETIC_KINDS) expect(ofKind(kind).length).toBeGreaterThan(COUNT / 50);
    const repeated = [...groupBy(generated, (g) => g.objectId).values()].filter(
      (alerts) => alerts.length > 1,
    );
    expect(repeated.length).toBeGreaterThan(100);
  });

  it('spreads positions over the sky north of dec -30', () => {
    const candidates = generated.map((g) => g.alert.candidate);
    expect(candidates.every((c) => c.dec >= -30 && c.dec <= 90 && c.ra >= 0 && c.ra < 360)).toBe(true);
    // Uniform on the sphere, sin(dec) is uniform in [-0.5, 1]: a third of the objects lie south of the equator
    // and a third north of +30 deg. Counted per object (asteroids excepted, they follow the ecliptic).
    const objects = [...groupBy(generated, (g) => g.objectId).values()]
      .map((alerts) => alerts[0] as Generated)
      .filter((g) => g.kind !== 'solar-system');
    const fraction = (test: (dec: number) => boolean) =>
      objects.filter((g) => test(g.alert.candidate.dec)).length / objects.length;
    expect(fraction((dec) => dec < 0)).toBeCloseTo(1 / 3, 1);
    expect(fraction((dec) => dec > 30)).toBeCloseTo(1 / 3, 1);
  });

  it('makes asteroid alerts single detections of a named object that moves', () => {
    const asteroids = ofKind('solar-system');
    const perObject = groupBy(asteroids, (g) => g.objectId);
    expect(perObject.size).toBe(asteroids.length);
    for (const { alert } of asteroids) {
      expect(alert.candidate.ssnamenr).toMatch(/^(\d+|\d{4}[A-Z]{2}\d+)$/);
      expect(alert.candidate.ssdistnr).toBeGreaterThanOrEqual(0);
      expect(alert.candidate.ndethist).toBe(1);
      expect(alert.prv_candidates?.every((p) => p.candid === null) ?? true).toBe(true);
    }
    const seenTwice = [...groupBy(asteroids, (g) => g.alert.candidate.ssnamenr).values()].find(
      (a) => a.length > 1,
    );
    const [a, b] = seenTwice ?? [];
    expect(a && b && angularSeparationArcsec(a.alert.candidate, b.alert.candidate)).toBeGreaterThan(60);
    // Everything else says "no known solar-system object" the way ZTF does.
    for (const g of generated.filter((x) => x.kind !== 'solar-system'))
      expect(g.alert.candidate.ssnamenr).toBe('null');
  });

  it('makes bogus alerts fail the quality cut and the others pass it', () => {
    for (const g of generated) expect(passesQualityCut(g.alert)).toBe(g.kind !== 'bogus');
  });

  it('repeats earlier detections of the last 30 days in prv_candidates, with the same photometry', () => {
    let checked = 0;
    for (const alerts of groupBy(generated, (g) => g.objectId).values()) {
      for (let later = 1; later < alerts.length; later++) {
        const { alert } = alerts[later] as Generated;
        const prv = alert.prv_candidates ?? [];
        expect(prv.map((p) => p.jd)).toEqual(prv.map((p) => p.jd).sort((x, y) => x - y));
        for (const earlier of alerts.slice(0, later).map((g) => g.alert.candidate)) {
          if (earlier.jd < alert.candidate.jd - 30) continue;
          const entry = prv.find((p) => p.candid === earlier.candid);
          expect(entry).toMatchObject({ jd: earlier.jd, fid: earlier.fid, magpsf: earlier.magpsf });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('gives supernovae a rise or a decline and variable stars negative differences too', () => {
    const spans = [...groupBy(ofKind('supernova'), (g) => g.objectId).values()]
      .filter((alerts) => alerts.length >= 5)
      .map((alerts) => alerts.map((g) => g.alert.candidate.magpsf))
      .map((mags) => Math.max(...mags) - Math.min(...mags));
    expect(spans.filter((span) => span > 0.5).length).toBeGreaterThan(5);
    const variable = ofKind('variable-star').map((g) => g.alert.candidate.isdiffpos);
    expect(new Set(variable)).toEqual(new Set(['t', 'f']));
  });

  it('attaches three gzipped FITS cutouts', () => {
    for (const { alert } of generated.slice(0, 100)) {
      for (const cutout of [alert.cutoutScience, alert.cutoutTemplate, alert.cutoutDifference]) {
        const fits = gunzipSync(cutout?.stampData ?? Buffer.alloc(0));
        expect(fits.subarray(0, 9).toString('latin1')).toBe('SIMPLE  =');
        expect(fits.length % 2880).toBe(0);
        expect(fits.subarray(0, 2880).toString('latin1')).toMatch(/NAXIS1 {2}=\s+63 /);
        expect(cutout?.fileName).toContain(`candid${alert.candid}_`);
      }
    }
  });
});

describe('writeSyntheticAlerts', () => {
  it('writes one <candid>.avro container file per alert', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fink-synthetic-'));
    try {
      const result = writeSyntheticAlerts(dir, { seed: 3, count: 20 });
      const files = readdirSync(dir).sort();
      expect(result.files).toBe(20);
      expect(files).toHaveLength(20);
      const decoder = createZtfDecoder();
      for (const file of files) {
        expect(decoder.decode(readFileSync(path.join(dir, file))).candid).toBe(
          BigInt(path.basename(file, '.avro')),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}

function angularSeparationArcsec(a: { ra: number; dec: number }, b: { ra: number; dec: number }): number {
  const rad = Math.PI / 180;
  const cos =
    Math.sin(a.dec * rad) * Math.sin(b.dec * rad) +
    Math.cos(a.dec * rad) * Math.cos(b.dec * rad) * Math.cos((a.ra - b.ra) * rad);
  return (Math.acos(Math.min(1, Math.max(-1, cos))) / rad) * 3600;
}
