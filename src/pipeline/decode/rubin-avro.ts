// Decodes Rubin (LSST) alert messages: Confluent wire format, the writer schema fetched by id from a registry.
//
// A message is 0x00 · 4-byte big-endian schema id · one Avro datum with no schema. What shapes this module:
// - The schema is not in the message. It comes from a Confluent-compatible registry, where a schema id is
//   immutable, so each id is fetched and parsed once and cached for the life of the decoder.
// - The registry is a network dependency. When it does not know an id, or cannot be reached, a local copy of the
//   schema (the alert_packet .avsc files) can stand in. When neither has the schema, the two cases part ways: an
//   id nobody knows is a bad message (dead letter), while an unreachable registry is broken infrastructure, so
//   the consumer must retry without committing rather than dead-letter a healthy stream.
// - diaSourceId, diaObjectId, visit and the other ids exceed 2^53: every Avro long decodes to a bigint.
// - alert_packet ships a schema as several .avsc files that refer to each other's records by name; the registry
//   (and avsc) want one self-contained schema, so loadRubinSchema inlines the references.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import avsc from 'avsc';
import type { Type as AvroType } from 'avsc';
import type { Band } from '../alert.ts';
import { InfrastructureError } from '../framework.ts';
import { SchemaRegistryError } from './schema-registry.ts';
import type { SchemaRegistryClient } from './schema-registry.ts';
import { BIGINT_LONG } from './bigint-long.ts';

/**
 * One detection on a difference image (schema lsst.v10_0.diaSource). Fluxes are in nJy, times are MJD in TAI.
 * Field names are Rubin's; the survey-neutral mapping is in rubin-alert.ts.
 */
export interface RubinDiaSource {
  diaSourceId: bigint;
  visit: bigint;
  detector: number;
  /**
   * The diaObject this source belongs to. The schema says null when there is none (solar-system sources); the
   * 2026 stream sends 0 instead, so treat 0 and null alike.
   */
  diaObjectId: bigint | null;
  /** The solar-system object this source belongs to; 0 or null when none (see diaObjectId). */
  ssObjectId: bigint | null;
  parentDiaSourceId: bigint | null;
  /** Mid-exposure time, MJD in International Atomic Time (TAI, 37 s ahead of UTC) [d]. */
  midpointMjdTai: number;
  ra: number;
  raErr: number | null;
  dec: number;
  decErr: number | null;
  ra_dec_Cov: number | null;
  x: number;
  xErr: number | null;
  y: number;
  yErr: number | null;
  centroid_flag: boolean | null;
  apFlux: number | null;
  apFluxErr: number | null;
  apFlux_flag: boolean | null;
  apFlux_flag_apertureTruncated: boolean | null;
  isNegative: boolean | null;
  snr: number | null;
  /** Point-source flux on the difference image (visit minus template), negative when fainter [nJy]. */
  psfFlux: number | null;
  psfFluxErr: number | null;
  psfLnL: number | null;
  psfChi2: number | null;
  psfNdata: number | null;
  psfFlux_flag: boolean | null;
  psfFlux_flag_edge: boolean | null;
  psfFlux_flag_noGoodPixels: boolean | null;
  trailFlux: number | null;
  trailFluxErr: number | null;
  trailRa: number | null;
  trailRaErr: number | null;
  trailDec: number | null;
  trailDecErr: number | null;
  trailLength: number | null;
  trailLengthErr: number | null;
  trailAngle: number | null;
  trailAngleErr: number | null;
  trailChi2: number | null;
  trailNdata: number | null;
  trail_flag_edge: boolean | null;
  dipoleMeanFlux: number | null;
  dipoleMeanFluxErr: number | null;
  dipoleFluxDiff: number | null;
  dipoleFluxDiffErr: number | null;
  dipoleLength: number | null;
  dipoleAngle: number | null;
  dipoleChi2: number | null;
  dipoleNdata: number | null;
  /** Forced point-source flux on the visit (science) image [nJy]. */
  scienceFlux: number | null;
  scienceFluxErr: number | null;
  forced_PsfFlux_flag: boolean | null;
  forced_PsfFlux_flag_edge: boolean | null;
  forced_PsfFlux_flag_noGoodPixels: boolean | null;
  templateFlux: number | null;
  templateFluxErr: number | null;
  ixx: number | null;
  iyy: number | null;
  ixy: number | null;
  ixxPSF: number | null;
  iyyPSF: number | null;
  ixyPSF: number | null;
  shape_flag: boolean | null;
  shape_flag_no_pixels: boolean | null;
  shape_flag_not_contained: boolean | null;
  shape_flag_parent_source: boolean | null;
  /** 0 = point-like, 1 = extended. */
  extendedness: number | null;
  /** Real/bogus score of the detection, 0 (bogus) to 1 (real). */
  reliability: number | null;
  /** u, g, r, i, z or y. The decoder guarantees it for the triggering diaSource. */
  band: string | null;
  isDipole: boolean | null;
  dipoleFitAttempted: boolean | null;
  timeProcessedMjdTai: number;
  timeWithdrawnMjdTai: number | null;
  bboxSize: number | null;
  pixelFlags: boolean | null;
  pixelFlags_bad: boolean | null;
  pixelFlags_cr: boolean | null;
  pixelFlags_crCenter: boolean | null;
  pixelFlags_edge: boolean | null;
  pixelFlags_nodata: boolean | null;
  pixelFlags_nodataCenter: boolean | null;
  pixelFlags_interpolated: boolean | null;
  pixelFlags_interpolatedCenter: boolean | null;
  pixelFlags_offimage: boolean | null;
  pixelFlags_saturated: boolean | null;
  pixelFlags_saturatedCenter: boolean | null;
  pixelFlags_suspect: boolean | null;
  pixelFlags_suspectCenter: boolean | null;
  pixelFlags_streak: boolean | null;
  pixelFlags_streakCenter: boolean | null;
  pixelFlags_injected: boolean | null;
  pixelFlags_injectedCenter: boolean | null;
  pixelFlags_injected_template: boolean | null;
  pixelFlags_injected_templateCenter: boolean | null;
  glint_trail: boolean | null;
  /** Fields a later schema adds stay reachable: the decoder returns the record as decoded. */
  [field: string]: unknown;
}

/** Forced photometry at the diaObject's position on an earlier visit, detected there or not. */
export interface RubinDiaForcedSource {
  diaForcedSourceId: bigint;
  diaObjectId: bigint;
  ra: number;
  dec: number;
  visit: bigint;
  detector: number;
  /** Forced point-source flux on the difference image [nJy]. */
  psfFlux: number | null;
  psfFluxErr: number | null;
  midpointMjdTai: number;
  scienceFlux: number | null;
  scienceFluxErr: number | null;
  band: string | null;
  timeProcessedMjdTai: number;
  timeWithdrawnMjdTai: number | null;
  [field: string]: unknown;
}

type BandFloatStat =
  | 'psfFluxMean'
  | 'psfFluxMeanErr'
  | 'psfFluxSigma'
  | 'fpFluxMean'
  | 'fpFluxMeanErr'
  | 'scienceFluxMean'
  | 'scienceFluxMeanErr'
  | 'psfFluxMin'
  | 'psfFluxMax'
  | 'psfFluxMaxSlope'
  | 'psfFluxErrMean';

/** Per-band light-curve summaries of a diaObject: u_psfFluxMean ... y_psfFluxErrMean [nJy], and *_psfFluxNdata. */
export type RubinDiaObjectBandStats = { [K in `${Band}_${BandFloatStat}`]: number | null } & {
  [K in `${Band}_psfFluxNdata`]: number | null;
};

/** The object (a fixed position on the sky) the triggering diaSource was associated with. */
export interface RubinDiaObject extends RubinDiaObjectBandStats {
  diaObjectId: bigint;
  validityStartMjdTai: number;
  ra: number;
  raErr: number | null;
  dec: number;
  decErr: number | null;
  ra_dec_Cov: number | null;
  firstDiaSourceMjdTai: number | null;
  lastDiaSourceMjdTai: number | null;
  nDiaSources: number;
  [field: string]: unknown;
}

/** The triggering diaSource seen as a known solar-system object (predicted ephemeris and geometry). */
export interface RubinSsSource {
  diaSourceId: bigint;
  ssObjectId: bigint;
  designation: string | null;
  eclLambda: number;
  eclBeta: number;
  galLon: number;
  galLat: number;
  elongation: number | null;
  phaseAngle: number | null;
  topoRange: number | null;
  topoRangeRate: number | null;
  helioRange: number | null;
  helioRangeRate: number | null;
  ephRa: number | null;
  ephDec: number | null;
  ephVmag: number | null;
  ephRate: number | null;
  ephRateRa: number | null;
  ephRateDec: number | null;
  ephOffset: number | null;
  ephOffsetRa: number | null;
  ephOffsetDec: number | null;
  ephOffsetAlongTrack: number | null;
  ephOffsetCrossTrack: number | null;
  helio_x: number | null;
  helio_y: number | null;
  helio_z: number | null;
  helio_vx: number | null;
  helio_vy: number | null;
  helio_vz: number | null;
  helio_vtot: number | null;
  topo_x: number | null;
  topo_y: number | null;
  topo_z: number | null;
  topo_vx: number | null;
  topo_vy: number | null;
  topo_vz: number | null;
  topo_vtot: number | null;
  diaDistanceRank: number | null;
  [field: string]: unknown;
}

/** The Minor Planet Center orbit of the solar-system object (schema 10.0; 9.0 called it MPCORB). */
export interface RubinMpcOrbits {
  id: number;
  designation: string;
  packed_primary_provisional_designation: string;
  unpacked_primary_provisional_designation: string;
  mpc_orb_jsonb: string | null;
  /** Microseconds since the Unix epoch (Avro timestamp-micros, kept as the raw long). */
  created_at: bigint | null;
  updated_at: bigint | null;
  orbit_type_int: number | null;
  u_param: number | null;
  nopp: number | null;
  arc_length_total: number | null;
  arc_length_sel: number | null;
  nobs_total: number | null;
  nobs_total_sel: number | null;
  a: number | null;
  q: number | null;
  e: number | null;
  i: number | null;
  node: number | null;
  argperi: number | null;
  peri_time: number | null;
  yarkovsky: number | null;
  srp: number | null;
  a1: number | null;
  a2: number | null;
  a3: number | null;
  dt: number | null;
  mean_anomaly: number | null;
  period: number | null;
  mean_motion: number | null;
  a_unc: number | null;
  q_unc: number | null;
  e_unc: number | null;
  i_unc: number | null;
  node_unc: number | null;
  argperi_unc: number | null;
  peri_time_unc: number | null;
  yarkovsky_unc: number | null;
  srp_unc: number | null;
  a1_unc: number | null;
  a2_unc: number | null;
  a3_unc: number | null;
  dt_unc: number | null;
  mean_anomaly_unc: number | null;
  period_unc: number | null;
  mean_motion_unc: number | null;
  epoch_mjd: number | null;
  h: number | null;
  g: number | null;
  not_normalized_rms: number | null;
  normalized_rms: number | null;
  earth_moid: number | null;
  fitting_datetime: bigint | null;
  [field: string]: unknown;
}

/** A Rubin alert, schema lsst.v10_0.alert (9.0 records decode into it too, with MPCORB instead of mpc_orbits). */
export interface RubinAlert {
  /** The triggering diaSource's id: unique per alert. */
  diaSourceId: bigint;
  /** Why the scheduler took the image (RTN-097), e.g. 'ddf_cosmos'. */
  observation_reason: string | null;
  target_name: string | null;
  diaSource: RubinDiaSource;
  /** Earlier detections of the same diaObject (up to 12 months); null for new and solar-system objects. */
  prvDiaSources: RubinDiaSource[] | null;
  /** Forced photometry at the diaObject's position on earlier visits; null for solar-system objects. */
  prvDiaForcedSources: RubinDiaForcedSource[] | null;
  diaObject: RubinDiaObject | null;
  ssSource: RubinSsSource | null;
  mpc_orbits: RubinMpcOrbits | null;
  /** FITS images (not gzipped), as received. */
  cutoutDifference: Buffer | null;
  cutoutScience: Buffer | null;
  cutoutTemplate: Buffer | null;
  [field: string]: unknown;
}

export type RubinDecodeErrorReason =
  /** Empty, or the first byte is not 0: not Confluent wire format (a ZTF container file starts with 'O'). */
  | 'not-confluent-framed'
  /** The 5-byte header is cut short, or the Avro body ends before the datum does. */
  | 'truncated'
  /** Neither the registry nor a local schema directory has a schema under the message's id. */
  | 'unknown-schema-id'
  /** The schema stored under the id is not JSON or not valid Avro (cached: an id's schema never changes). */
  | 'invalid-schema'
  /** The body does not decode with the writer schema, or leaves bytes over. */
  | 'invalid-datum'
  /**
   * It decoded, but a field the pipeline cannot do without is missing or unusable: a schema before 8.0 (named
   * the id alertId), or a triggering diaSource without a u/g/r/i/z/y band.
   */
  | 'missing-field';

/** Everything decode() throws for a bad message; `reason` is what the dead-letter topic records. */
export class RubinDecodeError extends Error {
  override name = 'RubinDecodeError';
  readonly reason: RubinDecodeErrorReason;

  constructor(reason: RubinDecodeErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** A writer schema: the self-contained JSON (what a registry serves) and its parsed type. */
export interface RubinSchema {
  json: string;
  type: AvroType;
}

export interface LoadedRubinSchema extends RubinSchema {
  /** MAJOR.MINOR, e.g. '10.0'. */
  version: string;
}

/** Rubin's registry id of a schema version: major * 100 + minor (10.0 -> 1000, 7.4 -> 704), per alert_packet. */
export function rubinSchemaId(version: string): number {
  const { major, minor } = parseVersion(version);
  return major * 100 + minor;
}

/** The inverse of rubinSchemaId: 1000 -> '10.0'. */
export function rubinSchemaVersion(schemaId: number): string {
  return `${Math.floor(schemaId / 100)}.${schemaId % 100}`;
}

const VERSION_PATTERN = /^(\d+)\.(\d+)$/;
const ALERT_FILE_PATTERN = /^lsst\.v(\d+)_(\d+)\.alert\.avsc$/;

function parseVersion(version: string): { major: number; minor: number } {
  const match = VERSION_PATTERN.exec(version);
  if (match === null) throw new RangeError(`schema version must be MAJOR.MINOR, got '${version}'`);
  const minor = Number(match[2]);
  if (minor > 99) throw new RangeError(`schema version ${version}: a minor version above 99 has no Rubin id`);
  return { major: Number(match[1]), minor };
}

/** The version of the one lsst.vX_Y.alert.avsc in `dir`, or undefined when there is none. */
export function findRubinSchemaVersion(dir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const versions = names.flatMap((name) => {
    const match = ALERT_FILE_PATTERN.exec(name);
    return match === null ? [] : [`${match[1]}.${match[2]}`];
  });
  if (versions.length > 1) {
    throw new RubinDecodeError(
      'invalid-schema',
      `${dir} holds several alert schemas (${versions.join(', ')})`,
    );
  }
  return versions[0];
}

/**
 * The self-contained alert schema of an alert_packet schema directory: lsst.vX_Y.alert.avsc with every named
 * type it refers to (diaSource, diaObject, ... from the sibling lsst.vX_Y.*.avsc files) inlined where Avro wants
 * it, at its first use in field order, and referred to by name afterwards. Docs and defaults are kept.
 * `version` (MAJOR.MINOR) defaults to the one alert schema found in the directory.
 */
export function loadRubinSchema(dir: string, version?: string): LoadedRubinSchema {
  const resolvedVersion = version ?? findRubinSchemaVersion(dir);
  if (resolvedVersion === undefined) {
    throw new RubinDecodeError('invalid-schema', `no lsst.vX_Y.alert.avsc in ${dir}`);
  }
  const { major, minor } = parseVersion(resolvedVersion);
  const prefix = `lsst.v${major}_${minor}.`;
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.startsWith(prefix) && name.endsWith('.avsc'));
  } catch (err) {
    throw new RubinDecodeError(
      'invalid-schema',
      `cannot read schema directory ${dir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const alertFile = `${prefix}alert.avsc`;
  if (!names.includes(alertFile)) {
    throw new RubinDecodeError('invalid-schema', `${dir} has no ${alertFile}`);
  }

  const definitions = new Map<string, SchemaObject>();
  let alert: SchemaObject | undefined;
  for (const name of names.sort()) {
    const schema = readSchemaFile(path.join(dir, name));
    if (name === alertFile) alert = schema;
    else definitions.set(fullName(schema, undefined), schema);
  }
  if (alert === undefined) throw new Error('unreachable: the alert file was listed');

  const inlined = inlineReferences(alert, undefined, definitions, new Set());
  const json = JSON.stringify(inlined);
  return { version: resolvedVersion, json, type: parseRubinSchema(json) };
}

type SchemaObject = { [key: string]: unknown };

function readSchemaFile(file: string): SchemaObject {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RubinDecodeError('invalid-schema', `${file} is not readable JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!isSchemaObject(value) || typeof value.name !== 'string') {
    throw new RubinDecodeError('invalid-schema', `${file} does not define a named type`);
  }
  return value;
}

function isSchemaObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED_TYPES = new Set(['record', 'error', 'enum', 'fixed']);

/** Avro full name of a named type: a dotted name is already full; otherwise it takes the (inherited) namespace. */
function fullName(schema: SchemaObject, enclosingNamespace: string | undefined): string {
  const name = schema.name as string;
  if (name.includes('.')) return name;
  const namespace = typeof schema.namespace === 'string' ? schema.namespace : enclosingNamespace;
  return namespace ? `${namespace}.${name}` : name;
}

/** Namespace a named type gives the types nested in it. */
function namespaceOf(full: string): string | undefined {
  const dot = full.lastIndexOf('.');
  return dot < 0 ? undefined : full.slice(0, dot);
}

/**
 * Replaces the first reference to each definition with the definition itself (under its full name, so that it
 * keeps its identity wherever it lands). `defined` holds the names already defined earlier in the walk.
 */
function inlineReferences(
  node: unknown,
  namespace: string | undefined,
  definitions: ReadonlyMap<string, SchemaObject>,
  defined: Set<string>,
): unknown {
  if (typeof node === 'string') {
    if (PRIMITIVES.has(node)) return node;
    const candidates =
      node.includes('.') || namespace === undefined ? [node] : [`${namespace}.${node}`, node];
    for (const candidate of candidates) {
      if (defined.has(candidate)) return candidate;
      const definition = definitions.get(candidate);
      if (definition !== undefined) {
        // Named by its full name, so that the enclosing namespace cannot change its identity; '' is Avro's null
        // namespace, for a type that has none.
        const copy: SchemaObject = { ...definition, name: candidate };
        if (candidate.includes('.')) delete copy.namespace;
        else copy.namespace = '';
        return inlineReferences(copy, namespace, definitions, defined);
      }
    }
    // Left for avsc to report as an undefined type.
    return node;
  }
  if (Array.isArray(node))
    return node.map((branch) => inlineReferences(branch, namespace, definitions, defined));
  if (!isSchemaObject(node)) return node;

  const copy: SchemaObject = { ...node };
  let inner = namespace;
  if (typeof copy.type === 'string' && NAMED_TYPES.has(copy.type) && typeof copy.name === 'string') {
    const full = fullName(copy, namespace);
    defined.add(full);
    inner = namespaceOf(full);
  }
  if (Array.isArray(copy.fields)) {
    copy.fields = copy.fields.map((field: unknown) =>
      isSchemaObject(field)
        ? { ...field, type: inlineReferences(field.type, inner, definitions, defined) }
        : field,
    );
  }
  if (copy.type === 'array') copy.items = inlineReferences(copy.items, inner, definitions, defined);
  else if (copy.type === 'map') copy.values = inlineReferences(copy.values, inner, definitions, defined);
  else if (typeof copy.type !== 'string' || !NAMED_TYPES.has(copy.type)) {
    // {"type": "lsst.v10_0.diaSource"} or {"type": {...}}: a wrapped reference or schema.
    copy.type = inlineReferences(copy.type, inner, definitions, defined);
  }
  return copy;
}

/**
 * Parses a self-contained Rubin alert schema the way the decoder does: longs as bigints, unions of null and one
 * type as plain values (null or the value), records as plain objects.
 */
export function parseRubinSchema(schemaJson: string): AvroType {
  let schema: unknown;
  try {
    schema = JSON.parse(schemaJson);
  } catch (err) {
    throw new RubinDecodeError('invalid-schema', `schema is not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return avsc.Type.forSchema(schema as avsc.Schema, {
      // A fresh registry per parse: avsc registers the schema's named types in it.
      registry: { long: BIGINT_LONG },
      wrapUnions: 'auto',
      omitRecordMethods: true,
    });
  } catch (err) {
    throw new RubinDecodeError('invalid-schema', `schema is not valid Avro: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

const CONFLUENT_MAGIC = 0;
export const CONFLUENT_HEADER_LENGTH = 5;

/** The schema id of a Confluent-framed message; throws a RubinDecodeError when the framing is wrong. */
export function confluentSchemaId(message: Buffer): number {
  if (message.length === 0) throw new RubinDecodeError('not-confluent-framed', 'message is empty');
  if (message[0] !== CONFLUENT_MAGIC) {
    const start = message.subarray(0, 4).toString('hex');
    throw new RubinDecodeError(
      'not-confluent-framed',
      `message starts with 0x${start}, not the Confluent magic byte 0x00`,
    );
  }
  if (message.length < CONFLUENT_HEADER_LENGTH) {
    throw new RubinDecodeError(
      'truncated',
      `message of ${message.length} byte(s) ends inside the 5-byte Confluent header`,
    );
  }
  return message.readUInt32BE(1);
}

export interface RubinDecoderOptions {
  /** Where writer schemas come from first. Without one, only the local schema directories are used. */
  registry?: SchemaRegistryClient;
  /**
   * Local fallback, schema id -> alert_packet schema directory (the lsst.vX_Y.*.avsc files of one version, e.g.
   * ../shared/datasim/lsst/schema/10/0 for id 1000). Used when there is no registry, when the registry does not
   * know the id, or when it cannot be reached. Checked when the decoder is created; parsed on first use.
   */
  schemaDirs?: ReadonlyMap<number, string>;
  /**
   * Local fallback for any id by Rubin's numbering (id = major * 100 + minor): a tree laid out as alert_packet's
   * schema/ folder, {major}/{minor}/lsst.v{major}_{minor}.*.avsc. `schemaDirs` wins for the ids it lists.
   */
  schemaRoot?: string;
}

export interface RubinDecoded {
  alert: RubinAlert;
  schemaId: number;
  /** The writer schema as text: the same string for every message of that id (downstream caches key on it). */
  schemaJson: string;
}

export interface RubinDecoder {
  /**
   * Decodes one Confluent-framed message. Rejects with RubinDecodeError for a bad message (dead-letter it), and
   * with InfrastructureError when the registry cannot be asked and no local schema stands in (retry it).
   */
  decode(message: Buffer): Promise<RubinAlert>;
  /** decode, with the writer schema the alert was decoded with. */
  decodeWithSchema(message: Buffer): Promise<RubinDecoded>;
  /** Writer schemas parsed so far: each id's schema is parsed once, however many messages carry it. */
  readonly parsedSchemas: number;
}

export function createRubinDecoder(options: RubinDecoderOptions = {}): RubinDecoder {
  const { registry, schemaRoot } = options;
  const schemaDirs = new Map(options.schemaDirs ?? []);
  for (const [id, dir] of schemaDirs) {
    // A wrong path in the configuration must fail at start, not dead-letter every message of that id.
    if (findRubinSchemaVersion(dir) === undefined) {
      throw new RangeError(`local schema directory for id ${id} has no lsst.vX_Y.alert.avsc: ${dir}`);
    }
  }
  /** Settled schemas, and the errors that stay true for an id (its schema is invalid); pending lookups too. */
  const schemas = new Map<number, Promise<RubinSchema>>();
  let parsed = 0;

  const parse = (load: () => RubinSchema): RubinSchema => {
    parsed++;
    return load();
  };

  const localDir = (id: number): string | undefined => {
    const explicit = schemaDirs.get(id);
    if (explicit !== undefined) return explicit;
    if (schemaRoot === undefined) return undefined;
    const dir = path.join(schemaRoot, String(Math.floor(id / 100)), String(id % 100));
    const file = `lsst.v${Math.floor(id / 100)}_${id % 100}.alert.avsc`;
    return existsSync(path.join(dir, file)) ? dir : undefined;
  };

  const resolve = async (id: number): Promise<RubinSchema> => {
    let registryFailure: SchemaRegistryError | undefined;
    if (registry !== undefined) {
      try {
        const json = await registry.getSchema(id);
        return parse(() => ({ json, type: parseRubinSchema(json) }));
      } catch (err) {
        if (!(err instanceof SchemaRegistryError)) throw err;
        registryFailure = err;
      }
    }
    const dir = localDir(id);
    if (dir !== undefined) return parse(() => loadRubinSchema(dir));
    if (registryFailure === undefined || registryFailure.code === 'not-found') {
      const where = registry === undefined ? 'no registry configured' : 'the registry does not know it';
      throw new RubinDecodeError(
        'unknown-schema-id',
        `schema id ${id}: ${where} and there is no local schema for it`,
        registryFailure === undefined ? undefined : { cause: registryFailure },
      );
    }
    throw new InfrastructureError(
      `schema id ${id}: schema registry failed (${registryFailure.message}) and there is no local schema for it`,
      registryFailure.retriable,
      { cause: registryFailure },
    );
  };

  const schemaFor = (id: number): Promise<RubinSchema> => {
    let entry = schemas.get(id);
    if (entry === undefined) {
      entry = resolve(id);
      schemas.set(id, entry);
      // Concurrent messages share the lookup. A failure that may heal (registry down, id not registered yet) is
      // forgotten so that the next message asks again; an invalid schema stays invalid under its id.
      entry.catch((err: unknown) => {
        if (!(err instanceof RubinDecodeError && err.reason === 'invalid-schema')) schemas.delete(id);
      });
    }
    return entry;
  };

  const decodeWithSchema = async function decodeRubinAlert(message: Buffer): Promise<RubinDecoded> {
    const schemaId = confluentSchemaId(message);
    const { type, json } = await schemaFor(schemaId);
    return { alert: checkAlert(decodeBody(type, message, schemaId)), schemaId, schemaJson: json };
  };

  return {
    decode: async (message) => (await decodeWithSchema(message)).alert,
    decodeWithSchema,
    get parsedSchemas() {
      return parsed;
    },
  };
}

function decodeBody(type: AvroType, message: Buffer, id: number): unknown {
  let result: { value: unknown; offset: number };
  try {
    result = type.decode(message, CONFLUENT_HEADER_LENGTH);
  } catch (err) {
    throw new RubinDecodeError(
      'invalid-datum',
      `body does not decode with schema ${id}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  // avsc signals a datum that runs past the end of the buffer with a negative offset.
  if (result.offset < 0) {
    throw new RubinDecodeError(
      'truncated',
      `body of ${message.length} bytes ends inside the datum (schema ${id})`,
    );
  }
  if (result.offset !== message.length) {
    throw new RubinDecodeError(
      'invalid-datum',
      `datum ends at byte ${result.offset} of ${message.length}: ${message.length - result.offset} byte(s) left over`,
    );
  }
  return result.value;
}

const BANDS: ReadonlySet<string> = new Set<Band>(['u', 'g', 'r', 'i', 'z', 'y']);

/** Top-level fields a 9.0 record lacks (mpc_orbits) or an evolved schema might drop: absent reads as null. */
const NULLABLE_ALERT_FIELDS = [
  'observation_reason',
  'target_name',
  'prvDiaSources',
  'prvDiaForcedSources',
  'diaObject',
  'ssSource',
  'mpc_orbits',
  'cutoutDifference',
  'cutoutScience',
  'cutoutTemplate',
] as const;

/**
 * Narrows a decoded record to RubinAlert. The schema already guarantees most of it; what is checked here is
 * what the schema leaves open (band is nullable) or what another schema version may lack.
 */
function checkAlert(value: unknown): RubinAlert {
  const alert = value as Record<string, unknown>;
  if (typeof alert.diaSourceId !== 'bigint') throw missing('diaSourceId', alert.diaSourceId);
  const source = alert.diaSource as Record<string, unknown> | null | undefined;
  if (typeof source !== 'object' || source === null) throw missing('diaSource', source);
  for (const [name, type] of [
    ['diaSourceId', 'bigint'],
    ['midpointMjdTai', 'number'],
    ['ra', 'number'],
    ['dec', 'number'],
  ] as const) {
    if (typeof source[name] !== type) throw missing(`diaSource.${name}`, source[name]);
  }
  if (typeof source.band !== 'string' || !BANDS.has(source.band)) {
    throw new RubinDecodeError('missing-field', `diaSource.band is ${String(source.band)}, not u/g/r/i/z/y`);
  }
  for (const name of NULLABLE_ALERT_FIELDS) alert[name] ??= null;
  return alert as RubinAlert;
}

function missing(field: string, value: unknown): RubinDecodeError {
  const got = value === null ? 'null' : typeof value;
  return new RubinDecodeError('missing-field', `alert field ${field} is ${got}`);
}

/**
 * The Confluent-framed message the Rubin stream would carry for `alert` written with `schema` under `schemaId`.
 * Throws a TypeError naming the offending fields when the alert does not fit the schema.
 */
export function encodeRubinAlert(alert: RubinAlert, schema: RubinSchema, schemaId: number): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffffffff) {
    throw new RangeError(`schema id must be a 32-bit unsigned integer, got ${schemaId}`);
  }
  let body: Buffer;
  try {
    body = schema.type.toBuffer(alert);
  } catch (err) {
    throw new TypeError(
      `alert ${alert.diaSourceId} does not fit the schema: ${invalidPaths(schema.type, alert)}`,
      {
        cause: err,
      },
    );
  }
  const header = Buffer.alloc(CONFLUENT_HEADER_LENGTH);
  header[0] = CONFLUENT_MAGIC;
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

function invalidPaths(type: AvroType, value: unknown): string {
  const paths: string[] = [];
  type.isValid(value, {
    errorHook: (pathParts: string[]) => {
      if (paths.length < 5) paths.push(pathParts.join('.'));
    },
  });
  return paths.length > 0 ? `invalid field(s) ${paths.join(', ')}` : 'unknown reason';
}
