// The columns of Fink's tables as the REST API returns them, with Fink's prefixes:
//
//   i:  the survey's own fields of the detection (ZTF's candidate record: jd, magpsf, candid, ...; Rubin's
//       diaSource), typed and documented from ZTF's Avro schema (schema/avro/ztf), units from its docs' brackets;
//   d:  what Fink's science modules add (cdsxmatch, roid, nalerthist, classifier scores, catalog counterparts,
//       tag of a light-curve row);
//   v:  values derived for the portal (classification, first and last dates, lapse, colour, rate);
//   b:  binary data (cutouts as 2D arrays).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../project.ts';
import type { ColumnType, ExportColumn } from '../../export/table.ts';

const ZTF_SCHEMA_DIR = path.join(PROJECT_ROOT, 'schema', 'avro', 'ztf');

/** UCDs of the fields that have one (IVOA UCD1+ list); the rest have none rather than a guess. */
const UCDS: Record<string, string> = {
  'i:objectId': 'meta.id;meta.main',
  'i:candid': 'meta.id',
  'i:pid': 'meta.id',
  'i:jd': 'time.epoch',
  'i:jdstarthist': 'time.start',
  'i:jdendhist': 'time.end',
  'i:jdstartref': 'time.start',
  'i:jdendref': 'time.end',
  'i:fid': 'meta.id;instr.filter',
  'i:ra': 'pos.eq.ra;meta.main',
  'i:dec': 'pos.eq.dec;meta.main',
  'i:ranr': 'pos.eq.ra',
  'i:decnr': 'pos.eq.dec',
  'i:magpsf': 'phot.mag',
  'i:sigmapsf': 'stat.error;phot.mag',
  'i:magap': 'phot.mag',
  'i:sigmagap': 'stat.error;phot.mag',
  'i:magapbig': 'phot.mag',
  'i:sigmagapbig': 'stat.error;phot.mag',
  'i:diffmaglim': 'phot.mag;stat.max',
  'i:magnr': 'phot.mag',
  'i:sigmagnr': 'stat.error;phot.mag',
  'i:distnr': 'pos.angDistance',
  'i:distpsnr1': 'pos.angDistance',
  'i:distpsnr2': 'pos.angDistance',
  'i:distpsnr3': 'pos.angDistance',
  'i:ssdistnr': 'pos.angDistance',
  'i:ssmagnr': 'phot.mag',
  'i:ssnamenr': 'meta.id',
  'i:fwhm': 'phys.angSize',
  'i:classtar': 'src.class.starGalaxy',
  'i:rb': 'stat.probability',
  'i:drb': 'stat.probability',
  'i:exptime': 'time.duration;obs.exposure',
  'i:magzpsci': 'phot.mag;arith.zp',
  'i:ndethist': 'meta.number',
  'i:ncovhist': 'meta.number',
  'i:xpos': 'pos.cartesian.x;instr.det',
  'i:ypos': 'pos.cartesian.y;instr.det',
  'i:diaSourceId': 'meta.id',
  'i:diaObjectId': 'meta.id',
  'i:midpointMjdTai': 'time.epoch',
  'd:cdsxmatch': 'src.class',
  'd:tag': 'meta.code.qual',
  'v:classification': 'src.class',
  'v:firstdate': 'time.start',
  'v:lastdate': 'time.end',
  'v:lapse': 'time.duration',
  'v:separation_degree': 'pos.angDistance',
};

const UNIT_WORDS: Record<string, string> = {
  days: 'd',
  day: 'd',
  deg: 'deg',
  degrees: 'deg',
  mag: 'mag',
  arcsec: 'arcsec',
  pixels: 'pix',
  pixel: 'pix',
  sec: 's',
  seconds: 's',
};

interface AvroField {
  name: string;
  type: unknown;
  doc?: string;
}

const AVRO_TYPES: Record<string, ColumnType> = {
  long: 'long',
  int: 'int',
  double: 'double',
  float: 'float',
  string: 'string',
  boolean: 'boolean',
};

function candidateFields(file: string): AvroField[] {
  const schema = JSON.parse(readFileSync(path.join(ZTF_SCHEMA_DIR, file), 'utf8')) as { fields: AvroField[] };
  const candidate = schema.fields.find((field) => field.name === 'candidate');
  const type = candidate?.type;
  const record = (Array.isArray(type) ? type.find((t) => typeof t === 'object' && t !== null) : type) as
    { fields: AvroField[] } | undefined;
  return record?.fields ?? [];
}

function avroType(type: unknown): ColumnType {
  const names = Array.isArray(type) ? type : [type];
  for (const name of names) if (typeof name === 'string' && name in AVRO_TYPES) return AVRO_TYPES[name]!;
  return 'string';
}

function column(name: string, type: ColumnType, description?: string, unit?: string): ExportColumn {
  const ucd = UCDS[name];
  return {
    name,
    type,
    ...(unit === undefined ? {} : { unit }),
    ...(ucd === undefined ? {} : { ucd }),
    ...(description === undefined ? {} : { description }),
  };
}

function unitOf(doc: string | undefined): string | undefined {
  const bracket = doc === undefined ? null : /\[([a-z]+)\]/i.exec(doc);
  return bracket === null ? undefined : UNIT_WORDS[bracket[1]!.toLowerCase()];
}

/** ZTF's candidate fields in the schema's order: types from the newest schema, docs from the documented one. */
function ztfColumns(): ExportColumn[] {
  const documented = new Map(candidateFields('3.3.avsc').map((field) => [field.name, field.doc]));
  const newest = candidateFields('4.02.avsc');
  const fields = newest.length > 0 ? newest : candidateFields('3.3.avsc');
  const columns = [column('i:objectId', 'string', 'ZTF object identifier')];
  for (const field of fields) {
    const doc = field.doc ?? documented.get(field.name);
    columns.push(column(`i:${field.name}`, avroType(field.type), doc, unitOf(doc)));
  }
  return columns;
}

/** The i: columns of ZTF, in order. */
export const ZTF_CANDIDATE_COLUMNS: readonly ExportColumn[] = ztfColumns();
const ZTF_BY_NAME = new Map(ZTF_CANDIDATE_COLUMNS.map((c) => [c.name, c]));

/** The column of an i: field: ZTF's declaration, else one inferred from a value (Rubin's diaSource). */
export function candidateColumn(name: string, sample: unknown): ExportColumn {
  const known = ZTF_BY_NAME.get(name);
  if (known !== undefined) return known;
  const field = name.slice(2);
  let type: ColumnType = 'string';
  if (typeof sample === 'boolean') type = 'boolean';
  else if (typeof sample === 'number') type = 'double';
  else if (typeof sample === 'string' && /Id$/.test(field) && /^-?\d+$/.test(sample)) type = 'long';
  const unit = /^(ra|dec)$/.test(field) ? 'deg' : /Mjd/.test(field) ? 'd' : undefined;
  return column(name, type, undefined, unit);
}

/** d: columns every row of an alert table has, before the classifier scores and the catalogs. */
export const SCIENCE_COLUMNS: readonly ExportColumn[] = [
  column(
    'd:cdsxmatch',
    'string',
    'Type of the nearest counterpart in an overriding catalogue; Unknown without one',
  ),
  column('d:roid', 'int', 'Solar-system flag (roid_catcher): 3 known object, 2 candidate, 0/1 none'),
  column('d:nalerthist', 'int', 'Detections of the object up to this alert, negative ones included'),
];

export function scoreColumn(classifier: string): ExportColumn {
  return column(`d:${classifier}`, 'double', `Score of the ${classifier} classifier`);
}

export function catalogColumn(catalog: string): ExportColumn {
  return column(
    `d:${catalog}`,
    'string',
    `Nearest ${catalog} counterpart within its radius: its type, else its id; Unknown without one`,
  );
}

export const DERIVED_COLUMNS: readonly ExportColumn[] = [
  column('v:classification', 'string', "Fink's label of the alert"),
  column('v:firstdate', 'string', 'First detection of the object (UTC, ISO)'),
  column('v:lastdate', 'string', 'Last detection of the object up to this alert (UTC, ISO)'),
  column('v:lapse', 'double', 'Days between the first and the last detection', 'd'),
  column('v:g-r', 'double', 'Colour g - r from the latest detections in each band', 'mag'),
  column('v:rate', 'double', 'Magnitude rate of the latest band', 'mag/d'),
];

export const TAG_COLUMN = column(
  'd:tag',
  'string',
  'valid (an alert), upperlim (an upper limit), badquality (a detection whose alert did not pass the cuts)',
);

export const SEPARATION_COLUMN = column(
  'v:separation_degree',
  'double',
  'Distance of the object to the centre of the cone',
  'deg',
);

export function cutoutColumn(kind: string): ExportColumn {
  return column(`b:cutout${kind}_stampData`, 'json', `${kind} cutout as a 2D array (JSON)`);
}
