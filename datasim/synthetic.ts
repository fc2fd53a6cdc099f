// Seeded synthetic ZTF alerts for scale tests and benchmarks: as many as asked, reproducible from a seed,
// each one an Avro container file with the 4.02 schema embedded, as one Kafka message of the ZTF stream is.
//
// A small survey is simulated rather than independent random records, because the pipeline's interesting
// behaviour depends on the relations between alerts: an object's later alerts repeat its earlier detections and
// upper limits in prv_candidates, solar-system objects move, bogus detections fail the quality cut.
//
// - Time: `nights` consecutive nights starting at startJd, each split into up to 600 exposures. One exposure
//   has one filter and one limiting magnitude; pid and candid are derived from its time the way ZTF's are
//   (pid = night id, UT fraction of day, '15'; candid = pid, then a per-exposure counter), so they are unique.
// - Objects: each alert slot either discovers a new object or revisits an active one, in proportions that give
//   about `objects` distinct objects. A revisit must be detectable (source brighter than the exposure's limit).
// - Kinds: supernova (rise then decline), variable-star (periodic; the difference image is negative when the
//   star is fainter than its reference), solar-system (a named asteroid moving along the ecliptic; every alert
//   is a new single-detection object, as in ZTF), bogus (rb < 0.55 or nbad > 0).
// - Cutouts: a few pre-rendered gzipped FITS triplets per kind, drawn at random: rendering and gzipping three
//   images per alert would dominate the generation time.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createZtfEncoder } from '../src/pipeline/decode/ztf-avro.ts';
import type { ZtfAlert, ZtfCandidate, ZtfCutout, ZtfPrvCandidate } from '../src/pipeline/decode/ztf-avro.ts';
import { createPrng, deriveSeed } from './prng.ts';
import type { Prng } from './prng.ts';

export type SyntheticKind = 'supernova' | 'variable-star' | 'solar-system' | 'bogus';

export const SYNTHETIC_KINDS: readonly SyntheticKind[] = [
  'supernova',
  'variable-star',
  'solar-system',
  'bogus',
];

export interface SyntheticAlertOptions {
  seed: number;
  /** Alerts to generate. */
  count: number;
  /** Julian date the first night starts at; default 2460310.625 (2024-01-01 03:00 UTC). */
  startJd?: number;
  /** About how many distinct objects the alerts belong to; default count / 3. */
  objects?: number;
  /** Nights the alerts are spread over; default 30. */
  nights?: number;
}

export interface SyntheticAlert {
  candid: bigint;
  objectId: string;
  kind: SyntheticKind;
  /** An Avro container file holding the alert, schema embedded. */
  bytes: Buffer;
}

export interface WriteSyntheticAlertsResult {
  files: number;
  bytes: number;
}

const SCHEMA_FILE = new URL('../schema/avro/ztf/4.02.avsc', import.meta.url);
const DEFAULT_START_JD = 2460310.625;
const DEFAULT_NIGHTS = 30;
/** A Palomar night of ~8.4 hours, starting at startJd's time of day. */
const NIGHT_DAYS = 0.35;
/** 30 s exposures plus overheads: at most ~750 a night; fewer keeps exposures further apart. */
const MAX_EXPOSURES_PER_NIGHT = 600;
/**
 * candid = pid * 10^6 + 10000 + a per-exposure counter. The counter starts at a random offset below 1000 so
 * that candids do not all end in the same digits, and stays below 9500: detections from before the stream
 * (in prv_candidates only) use 9500-9999, so they can never collide with an alert's candid.
 */
const MAX_ALERTS_PER_EXPOSURE = 8500;
const PRIOR_CANDID_SUFFIX = 19_500;
/** ZTF alerts carry the last 30 days of detections and upper limits. */
const HISTORY_DAYS = 30;
/** The same object is not detected twice within half an hour (ZTF revisits a field after >= 30 min). */
const MIN_REVISIT_DAYS = 0.02;
/** Objects that can still be revisited; bounds memory for long runs (each carries its 30-day history). */
const MAX_ACTIVE_OBJECTS = 5000;
const REVISIT_TRIES = 6;
const KIND_WEIGHTS: Readonly<Record<SyntheticKind, number>> = {
  supernova: 0.3,
  'variable-star': 0.3,
  'solar-system': 0.2,
  bogus: 0.2,
};
/** JD of the ZTF night-id origin: nid = floor(jd + 0.5 - NID_ORIGIN_JD) (checked against real pids). */
const NID_ORIGIN_JD = 2457755;
const UNIX_EPOCH_JD = 2440587.5;
const OBLIQUITY = (23.4393 * Math.PI) / 180;
const DEG = Math.PI / 180;
/**
 * Object ids: 7 base-26 letters. Multiplying a counter by a number coprime with 26 (mod 26^7) maps distinct
 * counters to distinct, scrambled ids; the product stays exact in a double up to ~10^9 objects.
 */
const ID_SPACE = 26 ** 7;
const ID_MULTIPLIER = 7_777_777;
const CUTOUT_SIZE = 63;
const CUTOUT_VARIANTS = 4;
const FITS_BLOCK = 2880;

export function* generateSyntheticAlerts(options: SyntheticAlertOptions): Generator<SyntheticAlert> {
  const { seed, count } = options;
  const nights = options.nights ?? DEFAULT_NIGHTS;
  const targetObjects = options.objects ?? Math.max(1, Math.round(count / 3));
  const startJd = options.startJd ?? DEFAULT_START_JD;
  if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
  if (!Number.isInteger(nights) || nights < 1) throw new RangeError('nights must be a positive integer');
  if (!Number.isInteger(targetObjects) || targetObjects < 1) throw new RangeError('objects must be >= 1');
  if (!Number.isFinite(startJd)) throw new RangeError('startJd must be a finite Julian date');
  const perNight = Math.max(1, Math.ceil(count / nights));
  const exposuresPerNight = Math.min(MAX_EXPOSURES_PER_NIGHT, perNight);
  if (Math.ceil(perNight / exposuresPerNight) > MAX_ALERTS_PER_EXPOSURE) {
    throw new RangeError(`${count} alerts over ${nights} nights is too many per exposure: use more nights`);
  }

  const rng = createPrng(seed);
  const schema = syntheticSchema();
  const encoder = createZtfEncoder(schema.json);
  const cutouts = createCutoutLibrary(deriveSeed(seed, 1));
  const survey = new Survey(rng, startJd, deriveSeed(seed, 2));

  let exposure: Exposure | undefined;
  let exposureKey = -1;
  let inExposure = 0; // candid counter within the exposure
  for (let i = 0; i < count; i++) {
    const night = Math.floor(i / perNight);
    const slot = Math.floor(((i % perNight) * exposuresPerNight) / perNight);
    const key = night * exposuresPerNight + slot;
    if (exposure === undefined || key !== exposureKey) {
      exposure = makeExposure(rng, startJd + night + (slot * NIGHT_DAYS) / exposuresPerNight);
      exposureKey = key;
      inExposure = rng.int(1, 999);
    }
    const discover = rng.chance((targetObjects - survey.created) / (count - i));
    const object = (discover ? undefined : survey.revisit(exposure)) ?? survey.discover(exposure);
    const candid = exposure.pid * 1_000_000n + 10_000n + BigInt(inExposure++);
    const alert = observe(rng, schema, cutouts, object, exposure, candid);
    const syncMarker = Buffer.alloc(16);
    for (let j = 0; j < 16; j += 4) syncMarker.writeUInt32LE(rng.uint32(), j);
    yield {
      candid,
      objectId: object.objectId,
      kind: object.kind,
      bytes: encoder.encode(alert, { syncMarker }),
    };
  }
}

/** Writes <candid>.avro files into dir (created if missing), like the real alert archive's layout. */
export function writeSyntheticAlerts(
  dir: string,
  options: SyntheticAlertOptions,
): WriteSyntheticAlertsResult {
  mkdirSync(dir, { recursive: true });
  let files = 0;
  let bytes = 0;
  for (const alert of generateSyntheticAlerts(options)) {
    writeFileSync(path.join(dir, `${alert.candid}.avro`), alert.bytes);
    files++;
    bytes += alert.bytes.length;
  }
  return { files, bytes };
}

// --- Schema ------------------------------------------------------------------------------------------------

interface SyntheticSchema {
  /** Compact JSON, byte-identical to the schema embedded in the real 4.02 alerts. */
  json: string;
  /** Every field of the candidate and prv_candidates records, set to null: the base every record starts from. */
  nullCandidate: Readonly<Record<string, null>>;
  nullPrvCandidate: Readonly<Record<string, null>>;
  prvFields: readonly string[];
}

let cachedSchema: SyntheticSchema | undefined;

function syntheticSchema(): SyntheticSchema {
  if (cachedSchema !== undefined) return cachedSchema;
  const parsed: unknown = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
  const candidateFields = recordFieldNames(parsed, 'candidate');
  const prvFields = recordFieldNames(parsed, 'prv_candidates');
  cachedSchema = {
    json: JSON.stringify(parsed),
    nullCandidate: Object.fromEntries(candidateFields.map((name) => [name, null])),
    nullPrvCandidate: Object.fromEntries(prvFields.map((name) => [name, null])),
    prvFields,
  };
  return cachedSchema;
}

/** Field names of the record type called `name`, wherever it sits in the schema. */
function recordFieldNames(schema: unknown, name: string): string[] {
  const found: string[][] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (typeof node === 'object' && node !== null) {
      const n = node as { type?: unknown; name?: unknown; fields?: unknown; items?: unknown };
      if (n.type === 'record' && Array.isArray(n.fields)) {
        const fields = n.fields as { name: string; type: unknown }[];
        if (n.name === name) found.push(fields.map((field) => field.name));
        for (const field of fields) visit(field.type);
      }
      visit(n.items);
    }
  };
  visit(schema);
  const fields = found[0];
  if (fields === undefined) throw new Error(`schema ${SCHEMA_FILE.pathname} has no record named ${name}`);
  return fields;
}

// --- Exposures and identifiers -----------------------------------------------------------------------------

interface Exposure {
  jd: number;
  nid: number;
  pid: bigint;
  /** 1 = g, 2 = r. */
  fid: number;
  /** 5-sigma limiting magnitude of the difference image. */
  limit: number;
  /** Seeing FWHM [arcsec]. */
  seeing: number;
  zeroPoint: number;
  /** yyyymmdd + 6-digit UT fraction of day, as in ZTF file names. */
  stamp: string;
}

function makeExposure(rng: Prng, jd: number): Exposure {
  const ut = jd + 0.5 - NID_ORIGIN_JD;
  const nid = Math.floor(ut);
  const fraction = ut - nid;
  const pid = BigInt(nid) * 1_000_000_000n + BigInt(Math.floor(fraction * 1e7)) * 100n + 15n;
  const date = new Date((jd - UNIX_EPOCH_JD) * 86_400_000);
  const ymd = date.toISOString().slice(0, 10).replaceAll('-', '');
  return {
    jd,
    nid,
    pid,
    fid: rng.chance(0.55) ? 2 : 1,
    limit: rng.uniform(19.4, 20.9),
    seeing: rng.uniform(1.6, 3.2),
    zeroPoint: rng.uniform(25.9, 26.4),
    stamp: `${ymd}${String(Math.floor(fraction * 1e6)).padStart(6, '0')}`,
  };
}

function objectIdFor(jd: number, index: number, offset: number): string {
  const year = new Date((jd - UNIX_EPOCH_JD) * 86_400_000).getUTCFullYear() % 100;
  let n = (index * ID_MULTIPLIER + offset) % ID_SPACE;
  let letters = '';
  for (let i = 0; i < 7; i++) {
    letters = String.fromCharCode(97 + (n % 26)) + letters;
    n = Math.floor(n / 26);
  }
  return `ZTF${String(year).padStart(2, '0')}${letters}`;
}

/** A stand-in for the ZTF field grid: any fixed function of the position will do for the pipeline. */
function fieldOf(ra: number, dec: number): number {
  return 200 + Math.floor((dec + 30) / 7) * 40 + Math.floor(ra / 9);
}

function diffImageName(exposure: Exposure, field: number, rcid: number): string {
  const band = exposure.fid === 1 ? 'zg' : 'zr';
  const ccd = String(Math.floor(rcid / 4) + 1).padStart(2, '0');
  return `ztf_${exposure.stamp}_${String(field).padStart(6, '0')}_${band}_c${ccd}_o_q${(rcid % 4) + 1}_scimrefdiffimg.fits`;
}

// --- Objects -----------------------------------------------------------------------------------------------

/** Magnitude of the source as the difference image sees it at a time and filter. */
interface Appearance {
  mag: number;
  /** isdiffpos: brighter than in the reference image. */
  positive: boolean;
}

/** What the reference image and catalogs hold at the object's position. */
interface Surroundings {
  magnr: number;
  distnr: number;
  sgscore1: number;
  distpsnr1: number;
  ps1Mag: number;
  neargaia: number;
  maggaia: number;
  classtar: number;
}

interface SimObject {
  kind: SyntheticKind;
  objectId: string;
  ra: number;
  dec: number;
  field: number;
  rcid: number;
  surroundings: Surroundings;
  appearance(jd: number, fid: number): Appearance;
  /** After this date the object is not revisited (a supernova that faded). */
  endJd: number;
  maxAlerts: number;
  alerts: number;
  /** Detections before the simulated stream began (variable stars have years of them). */
  priorDetections: number;
  coverage: number;
  firstJd: number;
  lastJd: number;
  /** The last 30 days of detections and upper limits, oldest first. */
  history: ZtfPrvCandidate[];
  ssnamenr: string | null;
  ssdistnr: number;
  ssmagnr: number;
}

interface Asteroid {
  name: string;
  lambda0: number;
  beta0: number;
  /** Motion along the ecliptic [deg/day]; negative near opposition (retrograde loop). */
  rate: number;
  vmag: number;
}

/** The simulated sky: creates objects, keeps the ones that can be seen again, moves the asteroids. */
class Survey {
  created = 0;
  private readonly active: SimObject[] = [];
  private readonly asteroids: Asteroid[] = [];
  private readonly asteroidNames = new Set<string>();
  private readonly idOffset: number;

  constructor(
    private readonly rng: Prng,
    private readonly startJd: number,
    idSeed: number,
  ) {
    this.idOffset = idSeed % ID_SPACE;
  }

  /** An active object detectable in this exposure, if a few random tries find one. */
  revisit(exposure: Exposure): SimObject | undefined {
    for (let i = 0; i < REVISIT_TRIES && this.active.length > 0; i++) {
      const index = this.rng.int(0, this.active.length - 1);
      const object = this.active[index];
      if (object === undefined) break;
      if (exposure.jd > object.endJd || object.alerts >= object.maxAlerts) {
        this.retire(index);
        continue;
      }
      if (exposure.jd - object.lastJd < MIN_REVISIT_DAYS) continue;
      if (object.appearance(exposure.jd, exposure.fid).mag < exposure.limit - 0.05) return object;
    }
    return undefined;
  }

  discover(exposure: Exposure): SimObject {
    const kind = this.rng.weighted(KIND_WEIGHTS);
    const object =
      kind === 'solar-system' ? this.newAsteroidDetection(exposure) : this.newObject(kind, exposure);
    this.created++;
    if (object.maxAlerts > 1) {
      if (this.active.length >= MAX_ACTIVE_OBJECTS) this.retire(this.rng.int(0, this.active.length - 1));
      this.active.push(object);
    }
    return object;
  }

  private retire(index: number): void {
    const last = this.active.pop();
    if (last !== undefined && index < this.active.length) this.active[index] = last;
  }

  private nextObjectId(jd: number): string {
    return objectIdFor(jd, this.created, this.idOffset);
  }

  private newObject(kind: Exclude<SyntheticKind, 'solar-system'>, exposure: Exposure): SimObject {
    const rng = this.rng;
    // Uniform on the sphere above ZTF's southern limit: sin(dec) uniform in [sin(-30 deg), 1].
    const ra = rng.uniform(0, 360);
    const dec = Math.asin(rng.uniform(-0.5, 1)) / DEG;
    const base = {
      kind,
      objectId: this.nextObjectId(exposure.jd),
      ra,
      dec,
      field: fieldOf(ra, dec),
      rcid: rng.int(0, 63),
      alerts: 0,
      firstJd: exposure.jd,
      lastJd: -Infinity,
      history: [],
      ssnamenr: 'null', // ZTF writes the string 'null' when no solar-system object is near
      ssdistnr: -999,
      ssmagnr: -999,
    };
    switch (kind) {
      case 'supernova': {
        // The first detection comfortably above the limit.
        const lc = supernovaLightCurve(rng, exposure, exposure.limit - rng.uniform(0.3, 2.5));
        const hostMag = rng.uniform(17.5, 21.5);
        const object: SimObject = {
          ...base,
          appearance: lc.appearance,
          endJd: lc.peakJd + 120,
          maxAlerts: Infinity,
          priorDetections: 0,
          coverage: rng.int(100, 1500),
          surroundings: {
            magnr: hostMag,
            distnr: rng.uniform(0.4, 4),
            sgscore1: rng.uniform(0, 0.25),
            distpsnr1: rng.uniform(0.3, 4),
            ps1Mag: hostMag - rng.uniform(0, 0.5),
            neargaia: rng.uniform(5, 300),
            maggaia: rng.chance(0.5) ? -999 : rng.uniform(15, 20.5),
            classtar: rng.uniform(0.3, 0.9),
          },
        };
        this.addPreDiscoveryLimits(object, exposure, lc.explosionJd);
        return object;
      }
      case 'variable-star': {
        const lc = variableLightCurve(rng, exposure);
        const object: SimObject = {
          ...base,
          appearance: lc.appearance,
          endJd: Infinity,
          maxAlerts: Infinity,
          priorDetections: rng.int(10, 800),
          coverage: rng.int(900, 3000),
          firstJd: exposure.jd - rng.uniform(200, 2000),
          surroundings: {
            magnr: lc.meanMag,
            distnr: rng.uniform(0.02, 0.4),
            sgscore1: rng.uniform(0.9, 1),
            distpsnr1: rng.uniform(0.01, 0.4),
            ps1Mag: lc.meanMag + rng.normal() * 0.05,
            neargaia: rng.uniform(0.01, 0.3),
            maggaia: lc.meanMag - 0.2,
            classtar: rng.uniform(0.9, 1),
          },
        };
        this.addPriorVisits(object, exposure);
        return object;
      }
      case 'bogus': {
        const mag = rng.uniform(exposure.limit - 1.2, exposure.limit - 0.05);
        const positive = rng.chance(0.6);
        return {
          ...base,
          appearance: () => ({ mag, positive }),
          endJd: exposure.jd + 10,
          maxAlerts: rng.int(1, 3),
          priorDetections: 0,
          coverage: rng.int(50, 1500),
          surroundings: randomSurroundings(rng),
        };
      }
    }
  }

  /** Each detection of an asteroid is a new ZTF object with a single detection, at the asteroid's position. */
  private newAsteroidDetection(exposure: Exposure): SimObject {
    const rng = this.rng;
    let asteroid: Asteroid;
    let position: { ra: number; dec: number };
    do {
      asteroid = this.asteroids.length > 0 && rng.chance(0.6) ? rng.pick(this.asteroids) : this.newAsteroid();
      position = asteroidPosition(asteroid, exposure.jd - this.startJd);
    } while (position.dec < -30);
    const mag = asteroid.vmag + (exposure.fid === 1 ? 0.3 : -0.15) + rng.normal() * 0.1;
    const object: SimObject = {
      kind: 'solar-system',
      objectId: this.nextObjectId(exposure.jd),
      ra: position.ra,
      dec: position.dec,
      field: fieldOf(position.ra, position.dec),
      rcid: rng.int(0, 63),
      surroundings: randomSurroundings(rng),
      appearance: () => ({ mag, positive: true }),
      endJd: exposure.jd,
      maxAlerts: 1,
      alerts: 0,
      priorDetections: 0,
      coverage: rng.int(50, 1500),
      firstJd: exposure.jd,
      lastJd: -Infinity,
      history: [],
      ssnamenr: asteroid.name,
      ssdistnr: Math.round(rng.uniform(0, 3) * 10) / 10,
      ssmagnr: Math.round(asteroid.vmag * 10) / 10,
    };
    // Earlier visits of this position saw nothing there.
    for (let i = rng.int(0, 3); i > 0; i--) {
      addUpperLimit(rng, object, exposure.jd - rng.uniform(1, HISTORY_DAYS - 1));
    }
    object.history.sort((a, b) => a.jd - b.jd);
    return object;
  }

  private newAsteroid(): Asteroid {
    const rng = this.rng;
    let name: string;
    do {
      name = rng.chance(0.8)
        ? String(rng.int(1, 650_000))
        : `${rng.int(1995, 2023)}${String.fromCharCode(65 + rng.int(0, 23))}${String.fromCharCode(65 + rng.int(0, 24))}${rng.int(1, 300)}`;
    } while (this.asteroidNames.has(name));
    this.asteroidNames.add(name);
    const asteroid: Asteroid = {
      name,
      lambda0: rng.uniform(0, 360),
      beta0: rng.normal() * 7,
      rate: (rng.chance(0.3) ? -1 : 1) * rng.uniform(0.05, 0.5),
      vmag: rng.uniform(16.5, 20.4),
    };
    this.asteroids.push(asteroid);
    return asteroid;
  }

  /**
   * A known variable star was seen before the stream began: its first alert here already carries
   * detections (and non-detections) of the last 30 days.
   */
  private addPriorVisits(object: SimObject, exposure: Exposure): void {
    for (let i = this.rng.int(2, 6); i > 0; i--) {
      const jd = exposure.jd - this.rng.uniform(0.5, HISTORY_DAYS - 0.5);
      const visit = makeExposure(this.rng, jd);
      const { mag, positive } = object.appearance(jd, visit.fid);
      if (mag < visit.limit) {
        object.history.push(priorDetection(this.rng, object, visit, mag, positive));
        object.priorDetections++;
      } else {
        addUpperLimit(this.rng, object, jd);
      }
    }
    object.history.sort((a, b) => a.jd - b.jd);
  }

  /** A supernova's last non-detections before it exploded, within the 30-day history window. */
  private addPreDiscoveryLimits(object: SimObject, exposure: Exposure, explosionJd: number): void {
    const earliest = exposure.jd - HISTORY_DAYS + 0.5;
    for (let i = this.rng.int(1, 4); i > 0; i--) {
      const jd = this.rng.uniform(earliest, Math.min(explosionJd, exposure.jd - MIN_REVISIT_DAYS));
      if (jd > earliest) addUpperLimit(this.rng, object, jd);
    }
    object.history.sort((a, b) => a.jd - b.jd);
  }
}

function randomSurroundings(rng: Prng): Surroundings {
  const magnr = rng.uniform(14, 21.5);
  return {
    magnr,
    distnr: rng.uniform(1, 20),
    sgscore1: rng.next(),
    distpsnr1: rng.uniform(1, 30),
    ps1Mag: magnr + rng.normal() * 0.1,
    neargaia: rng.uniform(2, 300),
    maggaia: rng.chance(0.3) ? -999 : rng.uniform(12, 20.5),
    classtar: rng.uniform(0.5, 1),
  };
}

/** A rise over riseDays to peak, then a linear decline in magnitude; redder (g fades faster) with time. */
function supernovaLightCurve(rng: Prng, exposure: Exposure, firstMag: number) {
  const riseDays = rng.uniform(12, 20);
  // Discovered somewhere on the rise or shortly after peak.
  const peakJd = exposure.jd + rng.uniform(-5, riseDays * 0.7);
  const declinePerDay = rng.uniform(0.02, 0.04);
  const shape = (jd: number, fid: number): number => {
    const dt = jd - peakJd;
    if (dt < -riseDays) return Infinity;
    const color = fid === 1 ? -0.1 + 0.015 * Math.max(dt, 0) : 0;
    return color + (dt <= 0 ? 5 * (dt / riseDays) ** 2 : declinePerDay * dt);
  };
  // Scale so that the first detection has the magnitude asked for.
  const peakMag = firstMag - shape(exposure.jd, exposure.fid);
  return {
    peakJd,
    explosionJd: peakJd - riseDays,
    appearance: (jd: number, fid: number): Appearance => ({ mag: peakMag + shape(jd, fid), positive: true }),
  };
}

/**
 * A periodic star. The template shows it at its mean brightness, so the difference image holds
 * flux(t) - flux(mean): positive when brighter, negative when fainter, nothing near the mean.
 */
function variableLightCurve(rng: Prng, exposure: Exposure) {
  const meanMag = rng.uniform(14, 18);
  const amplitude = rng.uniform(0.3, 1.5);
  const period = Math.exp(rng.uniform(Math.log(0.2), Math.log(100)));
  const sawtooth = rng.chance(0.4); // RR Lyrae-like: fast rise, slow decline
  const colorMag = (fid: number): number => (fid === 1 ? 0.5 : 0);
  const colorAmplitude = (fid: number): number => (fid === 1 ? 1.3 : 1);
  let phase0 = rng.next();
  const magAt = (jd: number, fid: number): number => {
    const phase = ((((jd - exposure.jd) / period + phase0) % 1) + 1) % 1;
    const wave = sawtooth
      ? phase < 0.15
        ? 0.5 - phase / 0.15
        : -0.5 + (phase - 0.15) / 0.85
      : 0.5 * Math.sin(2 * Math.PI * phase);
    return meanMag + colorMag(fid) + amplitude * colorAmplitude(fid) * wave;
  };
  const appearance = (jd: number, fid: number): Appearance => {
    const diff = flux(magAt(jd, fid)) - flux(meanMag + colorMag(fid));
    return { mag: diff === 0 ? Infinity : -2.5 * Math.log10(Math.abs(diff)), positive: diff > 0 };
  };
  // Discovered in this exposure, so start at a phase where the difference is detectable.
  for (let i = 0; i < 50 && appearance(exposure.jd, exposure.fid).mag > exposure.limit - 0.3; i++) {
    phase0 = rng.next();
  }
  return { meanMag, appearance };
}

function flux(mag: number): number {
  return 10 ** (-0.4 * mag);
}

function asteroidPosition(asteroid: Asteroid, days: number): { ra: number; dec: number } {
  const lambda = (asteroid.lambda0 + asteroid.rate * days) * DEG;
  const beta = (asteroid.beta0 + 0.01 * days) * DEG;
  const sinDec =
    Math.sin(beta) * Math.cos(OBLIQUITY) + Math.cos(beta) * Math.sin(OBLIQUITY) * Math.sin(lambda);
  const y = Math.sin(lambda) * Math.cos(OBLIQUITY) - Math.tan(beta) * Math.sin(OBLIQUITY);
  const ra = (Math.atan2(y, Math.cos(lambda)) / DEG + 360) % 360;
  return { ra, dec: Math.asin(sinDec) / DEG };
}

// --- Alerts ------------------------------------------------------------------------------------------------

function observe(
  rng: Prng,
  schema: SyntheticSchema,
  cutouts: CutoutLibrary,
  object: SimObject,
  exposure: Exposure,
  candid: bigint,
): ZtfAlert {
  const { fid, jd, limit } = exposure;
  const { mag, positive } = object.appearance(jd, fid);
  const snr = 5 * 10 ** (0.4 * (limit - mag));
  const sigmapsf = Math.max(0.01, 1.0857 / snr);
  const magpsf = mag + rng.normal() * sigmapsf;
  const bogus = object.kind === 'bogus';
  const s = object.surroundings;
  const cosDec = Math.max(Math.cos(object.dec * DEG), 1e-3);
  // Astrometric scatter of ~0.1" between detections of the same source.
  const ra = (object.ra + (rng.normal() * 0.1) / 3600 / cosDec + 360) % 360;
  const dec = object.dec + (rng.normal() * 0.1) / 3600;
  const magap = magpsf + rng.normal() * 0.05;
  const fwhm =
    bogus && rng.chance(0.5) ? rng.uniform(0.6, 1.2) : (exposure.seeing / 1.01) * rng.uniform(0.9, 1.1);
  const aimage = (fwhm / 2.35) * (bogus ? rng.uniform(1.5, 3.5) : rng.uniform(1, 1.3));
  const bimage = (fwhm / 2.35) * rng.uniform(0.9, 1);
  const ps1Id = BigInt(Math.floor((dec + 90) * 120)) * 10n ** 13n + BigInt(Math.floor(ra * 1e6)) * 10_000n;
  const ndethist = object.priorDetections + object.alerts + 1;
  const rb = rbFor(rng, object.kind);

  if (object.lastJd > -Infinity && rng.chance(0.5)) {
    // A visit between the previous detection and this one that did not see the source.
    const between = rng.uniform(object.lastJd + MIN_REVISIT_DAYS / 2, jd - MIN_REVISIT_DAYS / 2);
    addUpperLimit(rng, object, between);
  }
  object.history = object.history.filter((entry) => entry.jd >= jd - HISTORY_DAYS);

  const values = {
    jd,
    fid,
    pid: exposure.pid,
    diffmaglim: limit + rng.normal() * 0.05,
    pdiffimfilename: diffImageName(exposure, object.field, object.rcid),
    programpi: 'Kulkarni',
    programid: 1,
    candid,
    isdiffpos: positive ? 't' : 'f',
    tblid: BigInt(rng.int(0, 150)),
    nid: exposure.nid,
    rcid: object.rcid,
    field: object.field,
    xpos: rng.uniform(10, 3070),
    ypos: rng.uniform(10, 3070),
    ra,
    dec,
    magpsf,
    sigmapsf,
    chipsf: bogus ? rng.uniform(5, 50) : rng.uniform(0.5, 3),
    magap,
    sigmagap: sigmapsf * 1.1,
    distnr: s.distnr,
    magnr: s.magnr + (fid === 1 ? 0.4 : 0),
    sigmagnr: 0.01 + 0.02 * Math.max(0, s.magnr - 16),
    chinr: rng.uniform(0.5, 2),
    sharpnr: rng.normal() * 0.05,
    sky: rng.normal() * 2,
    magdiff: magap - magpsf,
    fwhm,
    classtar: s.classtar,
    mindtoedge: rng.uniform(10, 1500),
    magfromlim: limit - magap,
    seeratio: rng.uniform(0.8, 1.2),
    aimage,
    bimage,
    aimagerat: aimage / fwhm,
    bimagerat: bimage / fwhm,
    elong: aimage / bimage,
    nneg: bogus ? rng.int(5, 15) : rng.int(0, 4),
    nbad: rb.nbad,
    rb: rb.rb,
    ssdistnr: object.ssdistnr,
    ssmagnr: object.ssmagnr,
    ssnamenr: object.ssnamenr,
    sumrat: bogus ? rng.uniform(0.3, 0.8) : rng.uniform(0.9, 1),
    magapbig: magap - 0.02,
    sigmagapbig: sigmapsf * 1.2,
    ranr: object.ra + s.distnr / 3600,
    decnr: object.dec,
    sgmag1: s.ps1Mag + 0.4,
    srmag1: s.ps1Mag,
    simag1: s.ps1Mag - 0.2,
    szmag1: s.ps1Mag - 0.3,
    sgscore1: s.sgscore1,
    distpsnr1: s.distpsnr1,
    ndethist,
    ncovhist: Math.max(object.coverage, ndethist),
    jdstarthist: object.firstJd,
    jdendhist: jd,
    scorr: snr * rng.uniform(1, 1.3),
    tooflag: 0,
    objectidps1: ps1Id + BigInt(rng.int(0, 9999)),
    objectidps2: ps1Id + BigInt(rng.int(0, 9999)),
    sgmag2: s.ps1Mag + 1.5,
    srmag2: s.ps1Mag + 1.2,
    simag2: s.ps1Mag + 1,
    szmag2: s.ps1Mag + 0.9,
    sgscore2: rng.next(),
    distpsnr2: s.distpsnr1 + rng.uniform(1, 10),
    objectidps3: ps1Id + BigInt(rng.int(0, 9999)),
    sgmag3: s.ps1Mag + 2.5,
    srmag3: s.ps1Mag + 2.2,
    simag3: s.ps1Mag + 2,
    szmag3: s.ps1Mag + 1.9,
    sgscore3: rng.next(),
    distpsnr3: s.distpsnr1 + rng.uniform(10, 20),
    nmtchps: rng.int(1, 20),
    rfid: BigInt(object.field) * 1_000_000n + BigInt(fid * 100 + object.rcid),
    jdstartref: 2458200 + (object.field % 100),
    jdendref: 2458400 + (object.field % 100),
    nframesref: 15 + (object.field % 25),
    rbversion: 't17_f5_c3',
    dsnrms: rng.uniform(5, 20),
    ssnrms: rng.uniform(10, 40),
    dsdiff: rng.uniform(-20, 0),
    magzpsci: exposure.zeroPoint,
    magzpsciunc: 1.4e-5,
    magzpscirms: 0.04,
    nmatches: rng.int(500, 3000),
    clrcoeff: fid === 1 ? -0.05 : 0.1,
    clrcounc: 2.5e-5,
    zpclrcov: -1e-5,
    zpmed: exposure.zeroPoint,
    clrmed: fid === 1 ? 0.6 : 0.5,
    clrrms: 0.25,
    neargaia: s.neargaia,
    neargaiabright: rng.uniform(10, 300),
    maggaia: s.maggaia,
    maggaiabright: rng.uniform(10, 14),
    exptime: 30,
    drb: drbFor(rng, object.kind),
    drbversion: 'd6_m7',
  } satisfies Partial<ZtfCandidate>;
  // Every schema field is present: the null template comes from the schema itself.
  const candidate = { ...schema.nullCandidate, ...values } as ZtfCandidate;

  const prv = object.history.slice();
  object.history.push(toPrvCandidate(schema, candidate));
  object.alerts++;
  object.lastJd = jd;

  const images = cutouts.pick(rng, object.kind, positive);
  const stem = `candid${candid}`;
  return {
    schemavsn: '4.02',
    publisher: 'Fink datasim (synthetic)',
    objectId: object.objectId,
    candid,
    candidate,
    prv_candidates: prv.length > 0 ? prv : null,
    cutoutScience: cutout(`${stem}_pid${exposure.pid}_targ_sci.fits.gz`, images.science),
    cutoutTemplate: cutout(`${stem}_ref.fits.gz`, images.template),
    cutoutDifference: cutout(`${stem}_pid${exposure.pid}_targ_scimref.fits.gz`, images.difference),
  };
}

function cutout(fileName: string, stampData: Buffer): ZtfCutout {
  return { fileName, stampData };
}

/** A visit of the object's position that did not see it: only fainter than the visit's limit is possible. */
function addUpperLimit(rng: Prng, object: SimObject, jd: number): void {
  const exposure = makeExposure(rng, jd);
  const limit = Math.min(exposure.limit, object.appearance(jd, exposure.fid).mag - 0.1);
  object.coverage++;
  object.history.push({
    ...(syntheticSchema().nullPrvCandidate as Record<string, null>),
    jd,
    fid: exposure.fid,
    pid: exposure.pid,
    diffmaglim: limit,
    pdiffimfilename: diffImageName(exposure, object.field, object.rcid),
    programpi: 'Kulkarni',
    programid: 1,
    nid: exposure.nid,
    rcid: object.rcid,
    field: object.field,
    magzpsci: exposure.zeroPoint,
    magzpsciunc: 1.4e-5,
    magzpscirms: 0.04,
    clrcoeff: exposure.fid === 1 ? -0.05 : 0.1,
    clrcounc: 2.5e-5,
    rbversion: 't17_f5_c3',
  } as ZtfPrvCandidate);
}

/** A detection from before the stream: the main photometric fields, as a prv_candidates entry. */
function priorDetection(
  rng: Prng,
  object: SimObject,
  visit: Exposure,
  mag: number,
  positive: boolean,
): ZtfPrvCandidate {
  const sigmapsf = Math.max(0.01, 1.0857 / (5 * 10 ** (0.4 * (visit.limit - mag))));
  return {
    ...(syntheticSchema().nullPrvCandidate as Record<string, null>),
    jd: visit.jd,
    fid: visit.fid,
    pid: visit.pid,
    diffmaglim: visit.limit,
    pdiffimfilename: diffImageName(visit, object.field, object.rcid),
    programpi: 'Kulkarni',
    programid: 1,
    candid: visit.pid * 1_000_000n + BigInt(PRIOR_CANDID_SUFFIX + rng.int(0, 499)),
    isdiffpos: positive ? 't' : 'f',
    nid: visit.nid,
    rcid: object.rcid,
    field: object.field,
    ra: object.ra,
    dec: object.dec,
    magpsf: mag + rng.normal() * sigmapsf,
    sigmapsf,
    magnr: object.surroundings.magnr,
    distnr: object.surroundings.distnr,
    rb: rng.uniform(0.6, 0.97),
    magzpsci: visit.zeroPoint,
    rbversion: 't17_f5_c3',
  } as ZtfPrvCandidate;
}

function toPrvCandidate(schema: SyntheticSchema, candidate: ZtfCandidate): ZtfPrvCandidate {
  const prv: Record<string, unknown> = {};
  for (const name of schema.prvFields) prv[name] = candidate[name] ?? null;
  return prv as ZtfPrvCandidate;
}

/** Real kinds pass the usual quality cut (rb >= 0.55, nbad == 0); bogus ones fail it one way or the other. */
function rbFor(rng: Prng, kind: SyntheticKind): { rb: number; nbad: number } {
  switch (kind) {
    case 'supernova':
      return { rb: rng.uniform(0.65, 0.99), nbad: 0 };
    case 'variable-star':
      return { rb: rng.uniform(0.6, 0.97), nbad: 0 };
    case 'solar-system':
      return { rb: rng.uniform(0.56, 0.95), nbad: 0 };
    case 'bogus':
      return rng.chance(0.7)
        ? { rb: rng.uniform(0.02, 0.54), nbad: rng.int(0, 2) }
        : { rb: rng.uniform(0.56, 0.8), nbad: rng.int(1, 4) };
  }
}

function drbFor(rng: Prng, kind: SyntheticKind): number {
  switch (kind) {
    case 'supernova':
      return rng.uniform(0.85, 1);
    case 'variable-star':
      return rng.uniform(0.9, 1);
    case 'solar-system':
      return rng.uniform(0.6, 1);
    case 'bogus':
      return rng.uniform(0, 0.3);
  }
}

// --- Cutouts -----------------------------------------------------------------------------------------------

interface CutoutTriplet {
  science: Buffer;
  template: Buffer;
  difference: Buffer;
}

interface CutoutLibrary {
  pick(rng: Prng, kind: SyntheticKind, positive: boolean): CutoutTriplet;
}

interface Source {
  x: number;
  y: number;
  /** Total flux [DN]; negative for a negative difference. */
  flux: number;
  /** Gaussian sigma [pixels]. */
  sigma: number;
}

type Scene = 'supernova' | 'variable+' | 'variable-' | 'solar-system' | 'bogus';

function createCutoutLibrary(seed: number): CutoutLibrary {
  const rng = createPrng(seed);
  const scenes: Scene[] = ['supernova', 'variable+', 'variable-', 'solar-system', 'bogus'];
  const library = new Map<Scene, CutoutTriplet[]>();
  for (const scene of scenes) {
    const variants: CutoutTriplet[] = [];
    for (let i = 0; i < CUTOUT_VARIANTS; i++) variants.push(renderTriplet(rng, scene));
    library.set(scene, variants);
  }
  return {
    pick(pickRng, kind, positive) {
      const scene: Scene = kind === 'variable-star' ? (positive ? 'variable+' : 'variable-') : kind;
      return pickRng.pick(library.get(scene) ?? []);
    },
  };
}

function renderTriplet(rng: Prng, scene: Scene): CutoutTriplet {
  const c = (CUTOUT_SIZE - 1) / 2;
  const psf = rng.uniform(0.8, 1.4);
  const point = (flux: number): Source => ({
    x: c + rng.normal() * 0.3,
    y: c + rng.normal() * 0.3,
    flux,
    sigma: psf,
  });
  let reference: Source[] = [];
  let transient: Source[] = [];
  switch (scene) {
    case 'supernova': {
      const host: Source = { x: c + rng.uniform(-4, 4), y: c + rng.uniform(-4, 4), flux: 4e4, sigma: 5 };
      reference = [host];
      transient = [point(rng.uniform(1e4, 3e4))];
      break;
    }
    case 'variable+':
    case 'variable-': {
      const star = point(rng.uniform(5e4, 1.5e5));
      reference = [star];
      transient = [{ ...star, flux: (scene === 'variable+' ? 1 : -1) * star.flux * rng.uniform(0.2, 0.5) }];
      break;
    }
    case 'solar-system':
      transient = [point(rng.uniform(8e3, 2e4))];
      break;
    case 'bogus': {
      // A cosmic ray (one sharp pixel-sized spike) or a subtraction dipole next to a bright star.
      if (rng.chance(0.5)) {
        transient = [{ x: c, y: c, flux: 8e3, sigma: 0.35 }];
      } else {
        const star = point(3e5);
        reference = [star];
        transient = [
          { ...star, x: star.x - 1.2, flux: 2e4 },
          { ...star, x: star.x + 1.2, flux: -2e4 },
        ];
      }
      break;
    }
  }
  return {
    template: gzipFits(renderImage(rng, 180, 12, reference)),
    science: gzipFits(renderImage(rng, 190, 15, [...reference, ...transient.filter((s) => s.flux > 0)])),
    difference: gzipFits(renderImage(rng, 0, 50, transient)),
  };
}

function renderImage(rng: Prng, background: number, noise: number, sources: readonly Source[]): Float32Array {
  const pixels = new Float32Array(CUTOUT_SIZE * CUTOUT_SIZE);
  for (let y = 0; y < CUTOUT_SIZE; y++) {
    for (let x = 0; x < CUTOUT_SIZE; x++) {
      let value = background + noise * rng.normal();
      for (const s of sources) {
        const r2 = (x - s.x) ** 2 + (y - s.y) ** 2;
        value += (s.flux / (2 * Math.PI * s.sigma * s.sigma)) * Math.exp(-r2 / (2 * s.sigma * s.sigma));
      }
      pixels[y * CUTOUT_SIZE + x] = value;
    }
  }
  return pixels;
}

/** A minimal FITS file (primary HDU, BITPIX -32, big-endian), gzipped as ZTF ships its cutouts. */
function gzipFits(pixels: Float32Array): Buffer {
  const cards = [
    fitsCard('SIMPLE', 'T'),
    fitsCard('BITPIX', '-32'),
    fitsCard('NAXIS', '2'),
    fitsCard('NAXIS1', String(CUTOUT_SIZE)),
    fitsCard('NAXIS2', String(CUTOUT_SIZE)),
    `${'BUNIT'.padEnd(8)}= 'DN      '`.padEnd(80),
    'END'.padEnd(80),
  ];
  const header = Buffer.from(cards.join('').padEnd(FITS_BLOCK, ' '), 'latin1');
  const data = Buffer.alloc(Math.ceil((pixels.length * 4) / FITS_BLOCK) * FITS_BLOCK); // zero-padded
  pixels.forEach((value, i) => data.writeFloatBE(value, i * 4));
  return gzipSync(Buffer.concat([header, data]));
}

/** A fixed-format card: keyword in columns 1-8, '= ', value right-justified to column 30. */
function fitsCard(keyword: string, value: string): string {
  return `${keyword.padEnd(8)}= ${value.padStart(20)}`.padEnd(80);
}
