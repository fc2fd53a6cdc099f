// The server's Fink-compatible REST API (/api/v1/*), as Fink's own portal calls it: the dashboard's download
// buttons are links to it (the browser saves the file the server answers), and the name box asks its resolver.
// Argument names are Fink's (objectId, ra, dec, radius in arcsec, class, n, output-format, resolver, name).

export const REST_PREFIX = '/api/v1';
export const DOWNLOAD_FORMATS = ['csv', 'parquet', 'votable'] as const;
export type DownloadFormat = (typeof DOWNLOAD_FORMATS)[number];

export const FORMAT_LABELS: Readonly<Record<DownloadFormat, string>> = {
  csv: 'CSV',
  parquet: 'Parquet',
  votable: 'VOTable',
};
export const EXTENSIONS: Readonly<Record<DownloadFormat, string>> = {
  csv: 'csv',
  parquet: 'parquet',
  votable: 'vot',
};

export type RestQuery = Record<string, string | number | boolean>;

/** `/api/v1/<route>?<args>`, arguments in the given order. */
export function restUrl(route: string, args: RestQuery): string {
  const search = new URLSearchParams(Object.entries(args).map(([k, v]): [string, string] => [k, String(v)]));
  return `${REST_PREFIX}/${route}?${search.toString()}`;
}

/** What each kind of result is downloaded from. */
export const DOWNLOADS = {
  /** An object's alerts with its light curve, upper limits included. */
  lightCurve: (objectId: string): [string, RestQuery] => ['objects', { objectId, withupperlim: true }],
  cone: (ra: number, dec: number, radiusArcsec: number): [string, RestQuery] => [
    'conesearch',
    { ra, dec, radius: radiusArcsec },
  ],
  latests: (label: string, n: number): [string, RestQuery] => ['latests', { class: label, n }],
  /** Alerts matching a filter of the GraphQL API, newest first, as many as the server gives by default. */
  search: (filter: object): [string, RestQuery] => ['search', { filter: JSON.stringify(filter) }],
};

/** The resolvers of Fink's /api/v1/resolver. */
export const RESOLVERS = ['tns', 'simbad', 'ssodnet'] as const;
export type Resolver = (typeof RESOLVERS)[number];

/**
 * A ZTF object id (ZTF + year + 7 letters) or a Rubin diaObjectId (a 64-bit integer: 15 digits or more, where an
 * asteroid number has at most 7).
 */
export function looksLikeObjectId(name: string): boolean {
  return /^ZTF\d{2}[a-z]{7}$/.test(name) || /^\d{15,20}$/.test(name);
}

/** What a resolver row points at: objects of the archive, a solar-system name, or a position. */
export interface ResolvedTarget {
  objectIds: string[];
  ssName: string | null;
  position: { ra: number; dec: number } | null;
  /** The row's own fields, shown as they are. */
  fields: [string, string][];
}

const RA_KEYS = ['ra', 'i:ra', 'jradeg', 'd:ra', 'RA'];
const DEC_KEYS = ['dec', 'i:dec', 'jdedeg', 'd:declination', 'd:dec', 'DEC', 'Dec'];
const SSNAME_KEYS = ['i:ssnamenr', 'ssnamenr', 'ssName'];
const OBJECT_ID = /\b(ZTF\d{2}[a-z]{7})\b/g;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? '';
}

/** Reads one row of Fink's resolver answer (columns differ by resolver: d:internalname, i:ssnamenr, jradeg...). */
export function resolvedTarget(row: Readonly<Record<string, unknown>>): ResolvedTarget {
  const fields = Object.entries(row).map(([k, v]): [string, string] => [k, cellText(v)]);
  const number = (keys: readonly string[]) => {
    for (const key of keys) {
      const value = Number(row[key]);
      if (row[key] !== undefined && row[key] !== null && row[key] !== '' && Number.isFinite(value))
        return value;
    }
    return null;
  };
  const ra = number(RA_KEYS);
  const dec = number(DEC_KEYS);
  const ssKey = SSNAME_KEYS.find((key) => row[key] !== undefined && row[key] !== null && row[key] !== '');
  const objectIds = new Set<string>();
  for (const [key, value] of fields) {
    if (key === 'objectId' || key === 'i:objectId' || key === 'diaObjectId') {
      if (value !== '') objectIds.add(value);
    }
    for (const match of value.matchAll(OBJECT_ID)) objectIds.add(match[1]!);
  }
  return {
    objectIds: [...objectIds],
    ssName: ssKey === undefined ? null : cellText(row[ssKey]),
    position: ra === null || dec === null ? null : { ra, dec },
    fields,
  };
}

/** Thrown when the REST API is not served here (404): callers fall back to GraphQL. */
export class RestUnavailable extends Error {
  override name = 'RestUnavailable';
}

/** GET /api/v1/resolver as JSON: Fink answers a list of rows (an empty list when nothing matched). */
export async function resolveName(
  resolver: Resolver,
  name: string,
  options: { reverse?: boolean; nmax?: number } = {},
): Promise<Record<string, unknown>[]> {
  const url = restUrl('resolver', {
    resolver,
    name,
    ...(options.reverse === true ? { reverse: true } : {}),
    nmax: options.nmax ?? 10,
    'output-format': 'json',
  });
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (response.status === 404 || response.status === 405)
    throw new RestUnavailable(`${url}: ${response.status}`);
  if (!response.ok)
    throw new Error(`the resolver answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new RestUnavailable(`${url}: not JSON`);
  }
  if (Array.isArray(body))
    return body.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null);
  // pandas' to_json(orient="columns") shape, {column: {row: value}}: turned into rows.
  if (typeof body === 'object' && body !== null) {
    const columns = Object.entries(body as Record<string, Record<string, unknown>>);
    const keys = new Set(columns.flatMap(([, values]) => Object.keys(values ?? {})));
    return [...keys].map((key) =>
      Object.fromEntries(columns.map(([column, values]) => [column, values?.[key]])),
    );
  }
  return [];
}
