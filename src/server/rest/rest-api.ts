// Fink's REST API (its object API, astrolabsoftware/fink-object-api apps/routes/v1) over our stores:
//
//   /api/v1/objects     objectId (list), withupperlim, withcutouts, cutout-kind, columns, output-format
//   /api/v1/conesearch  ra, dec, radius (arcsec, <= server.maxConeRadiusArcsec), n, startdate, stopdate, window, columns, output-format
//   /api/v1/latests     class, trend, n, startdate, stopdate, color, columns, output-format
//   /api/v1/sso         n_or_d (list), withEphem, withResiduals, withCutouts, cutout-kind, columns, output-format
//   /api/v1/cutouts     objectId, kind, output-format (PNG, FITS, array), candid, stretch, colormap, pmin, pmax,
//                       convolution_kernel (the display options are accepted; images are zscaled grey)
//   /api/v1/resolver    resolver (simbad, ssodnet, tns), name, reverse, nmax, output-format: offline, among the
//                       stored objects, their solar-system names and the counterparts in the loaded catalogues
//   /api/v1/statistics  date (YYYYMMDD, YYYYMM, YYYY or ''), schema, columns, output-format
//   /api/v1/classes     the labels `class` takes;  /api/v1/schema  the columns, with types, units and UCDs
//   /api/v1/search      filter (the GraphQL API's AlertFilter as JSON), n, columns, output-format: not Fink's
//
// GET and POST alike, arguments as query parameters, a JSON object or a form. Tables come in json (records, as
// pandas' to_json(orient='records')), csv, parquet or votable (src/export), 64-bit ids exact in all four. Bad
// arguments are 400 `{"status": "error", "text": ...}` naming the argument, as Fink answers.
import type { ServerResponse } from 'node:http';
import { encodeTable, CONTENT_TYPES, type ExportFormat } from '../../export/encoders.ts';
import {
  ExportError,
  selectColumns,
  type ExportColumn,
  type ExportRow,
  type ExportTable,
} from '../../export/table.ts';
import type { ServerConfig } from '../../config.ts';
import { FilterError, validateFilter } from '../../filters/validate.ts';
import type { Logger } from '../../logger.ts';
import { FINK_LABELS } from '../../pipeline/classifiers/fink/label.ts';
import { FINK_RUBIN_SCORES, FINK_ZTF_SCORES } from '../../pipeline/classifiers/fink/index.ts';
import type { ServerStores } from '../../resolvers/stores.ts';
import type { AlertRecord } from '../../storage/alert-store.ts';
import { StorageError } from '../../storage/errors.ts';
import { angularDistanceArcsec } from '../../sky/angles.ts';
import { renderCutoutPng } from '../cutout-image.ts';
import { fitsBytes, parseFitsImage } from '../../pipeline/decode/fits.ts';
import type { ApiRequest, ApiRoute } from '../server.ts';
import {
  booleanArg,
  checkArgs,
  columnsArg,
  dateArg,
  integerArg,
  listArg,
  nowJd,
  numberArg,
  outputFormat,
  parsePayload,
  requiredString,
  RestError,
  stringArg,
  type ArgSpec,
  type Payload,
} from './args.ts';
import {
  catalogColumn,
  cutoutColumn,
  DERIVED_COLUMNS,
  SCIENCE_COLUMNS,
  scoreColumn,
  SEPARATION_COLUMN,
  TAG_COLUMN,
  ZTF_CANDIDATE_COLUMNS,
} from './fink-columns.ts';
import { alertTable, withUpperLimits, type AlertTable, type CatalogRef } from './fink-rows.ts';

export const REST_PREFIX = '/api/v1/';

/** Fink's default: 1000 objects in a cone. */
const DEFAULT_CONE_N = 1000;
const DEFAULT_SEARCH_N = 100;
const MAX_N = 10_000;
const DEFAULT_LATESTS_N = 100;
/** Fink's default start of every date range: ZTF's public alerts began in November 2019. */
const DEFAULT_START_JD = 2458788.5;
const CUTOUT_KINDS = ['Science', 'Template', 'Difference'] as const;
type FinkCutoutKind = (typeof CUTOUT_KINDS)[number];

export interface RestApiDeps {
  stores: Pick<ServerStores, 'alerts' | 'archive' | 'catalogs' | 'cutouts'>;
  /**
   * The GraphQL API's bounds, the same here: the largest body sent, the widest cone, the longest page of a
   * search, the most names in one request.
   */
  config: Pick<ServerConfig, 'maxResponseBytes' | 'maxConeRadiusArcsec' | 'maxPageSize' | 'maxIds'>;
  logger: Logger;
}

type Answer =
  | { kind: 'table'; table: ExportTable; format: ExportFormat; name: string }
  | { kind: 'json'; value: unknown }
  | { kind: 'bytes'; contentType: string; body: Uint8Array; filename: string };

interface RouteDef {
  description: string;
  args: readonly ArgSpec[];
  run(payload: Payload, request: ApiRequest): Promise<Answer>;
}

const arg = (name: string, required: boolean, description: string): ArgSpec => ({
  name,
  required,
  description,
});
const OUTPUT_FORMAT = arg(
  'output-format',
  false,
  'Output format among json[default], csv, parquet, votable.',
);
const COLUMNS = arg(
  'columns',
  false,
  "Comma-separated data columns to transfer, e.g. 'i:magpsf,i:jd'. If not specified, transfer all columns.",
);
const CUTOUT_KIND = arg(
  'cutout-kind',
  false,
  '`Science`, `Template`, or `Difference`. If not specified, all three.',
);

export function createRestApi(deps: RestApiDeps): ApiRoute {
  const log = deps.logger.child({ module: 'rest-api' });
  const { config } = deps;
  const MAX_NAMES = config.maxIds;
  const { alerts, archive, catalogs, cutouts } = deps.stores;

  const catalogRefs = async (): Promise<CatalogRef[]> =>
    (await catalogs.list()).map(({ name, overriding }) => ({ name, overriding }));

  /** The Fink table of these alerts: their scores and counterparts read in one query each. */
  async function tableOf(records: readonly AlertRecord[]): Promise<AlertTable> {
    const objectIds = [...new Set(records.map((record) => record.objectId))];
    const [classifications, crossmatches, refs] = await Promise.all([
      alerts.classificationsByObjectIds(objectIds),
      alerts.crossmatchesByObjectIds(objectIds),
      catalogRefs(),
    ]);
    const ids = new Set(records.map((record) => record.alertId));
    return alertTable({
      alerts: records,
      classifications: classifications.filter((row) => ids.has(row.alertId)),
      crossmatches: crossmatches.filter((row) => ids.has(row.alertId)),
      catalogs: refs,
    });
  }

  /** The latest alert of each object, in the objects' order. */
  async function latestAlerts(objectIds: readonly string[]): Promise<AlertRecord[]> {
    const objects = await alerts.objectsByIds(objectIds);
    const records = await alerts.alertsByIds(objects.map((object) => object.lastAlertId));
    const byObject = new Map(records.map((record) => [record.objectId, record]));
    return objectIds.flatMap((id) => byObject.get(id) ?? []);
  }

  async function cutoutArrays(table: AlertTable, kinds: readonly FinkCutoutKind[]): Promise<ExportTable> {
    const stored = await cutouts.byAlertIds(table.alertIds);
    const rows = table.rows.map((row, i) => {
      const found = stored.get(table.alertIds[i]!);
      const extra: Record<string, string | null> = {};
      for (const kind of kinds) {
        const bytes = found?.[kind.toLowerCase() as 'science' | 'template' | 'difference'] ?? null;
        extra[`b:cutout${kind}_stampData`] = bytes === null ? null : JSON.stringify(pixelRows(bytes));
      }
      return { ...row, ...extra };
    });
    return { columns: [...table.columns, ...kinds.map(cutoutColumn)], rows };
  }

  const routes: Record<string, RouteDef> = {
    objects: {
      description: 'Retrieve object data (one row per alert, newest first) from their names.',
      args: [
        arg(
          'objectId',
          true,
          'single object ID, or a comma-separated list, e.g. "ZTF19acmdpyr,ZTF21aaxtctv"',
        ),
        arg(
          'withupperlim',
          false,
          'If True, add upper limits and bad quality measurements, tagged in `d:tag`.',
        ),
        arg('withcutouts', false, 'If True, add the cutouts as 2D arrays. See also `cutout-kind`.'),
        CUTOUT_KIND,
        COLUMNS,
        OUTPUT_FORMAT,
      ],
      async run(payload) {
        const objectIds = listArg(payload, 'objectId', MAX_NAMES);
        const format = outputFormat(payload);
        const columns = columnsArg(payload);
        const withUpper = booleanArg(payload, 'withupperlim');
        const kinds = cutoutKinds(payload, 'withcutouts');
        const records = await alerts.alertsByObjectIds(objectIds);
        const alertRows = await tableOf(records);
        let table = kinds.length > 0 ? await cutoutArrays(alertRows, kinds) : alertRows;
        if (withUpper) table = withUpperLimits(table, await alerts.lightCurvesByObjectIds(objectIds));
        const keep = columns === undefined ? undefined : withUpper ? [...columns, 'd:tag'] : columns;
        return { kind: 'table', table: pick(table, keep), format, name: 'objects' };
      },
    },

    conesearch: {
      description: 'Retrieve the objects within a cone (their latest alert, nearest first).',
      args: [
        arg('ra', true, 'Right Ascension, in decimal degree.'),
        arg('dec', true, 'Declination, in decimal degree.'),
        arg(
          'radius',
          true,
          'Conesearch radius in arcsec, at most server.maxConeRadiusArcsec (3,600 by default).',
        ),
        arg('n', false, 'Maximal number of objects to return. Default is 1000.'),
        arg('startdate', false, 'Starting date in UTC (iso, jd, or MJD) of the first detection.'),
        arg(
          'stopdate',
          false,
          'Stopping date in UTC (iso, jd, or MJD) of the first detection. Default is now.',
        ),
        arg('window', false, 'Time window in days, instead of stopdate.'),
        arg('startdate_conesearch', false, 'Older name of `startdate`.'),
        arg('window_days_conesearch', false, 'Older name of `window`.'),
        COLUMNS,
        OUTPUT_FORMAT,
      ],
      async run(payload) {
        const ra = numberArg(payload, 'ra', { min: 0, max: 360 })!;
        const dec = numberArg(payload, 'dec', { min: -90, max: 90 })!;
        const radius = numberArg(payload, 'radius', { min: 0, max: config.maxConeRadiusArcsec })!;
        const n = integerArg(payload, 'n', DEFAULT_CONE_N, { min: 1, max: MAX_N });
        const format = outputFormat(payload);
        const columns = columnsArg(payload);
        const startName = payload.startdate !== undefined ? 'startdate' : 'startdate_conesearch';
        const windowName = payload.window !== undefined ? 'window' : 'window_days_conesearch';
        const start = dateArg(payload, startName);
        const window = numberArg(payload, windowName, { min: 0 });
        if (payload.stopdate !== undefined && window !== undefined) {
          throw new RestError(
            400,
            '`window` and `stopdate` exclude each other: give one of them',
            windowName,
          );
        }
        let stop = dateArg(payload, 'stopdate');
        if (window !== undefined) {
          if (start === undefined) throw new RestError(400, '`window` needs `startdate`', windowName);
          stop = start + window;
        }
        if (start !== undefined && stop !== undefined && stop < start) {
          throw new RestError(400, '`stopdate` is before `startdate`', 'stopdate');
        }
        const hits = await alerts.cone({
          ra,
          dec,
          radiusArcsec: radius,
          firstJdMin: start,
          firstJdMax: stop,
          limit: n,
        });
        const records = await latestAlerts(hits.map((hit) => hit.objectId));
        const table = await tableOf(records);
        // One row per object: its latest alert, and that alert's distance.
        const distance = new Map(
          records.map((r) => [r.objectId, angularDistanceArcsec(ra, dec, r.ra, r.dec)]),
        );
        const order = new Map(hits.map((hit, i) => [hit.objectId, i]));
        const objectOrder = (row: ExportRow) => order.get(String(row['i:objectId'])) ?? 0;
        const rows: ExportRow[] = table.rows
          .map((row) => ({
            ...row,
            'v:separation_degree': (distance.get(String(row['i:objectId'])) ?? NaN) / 3600,
          }))
          .sort((a, b) => objectOrder(a) - objectOrder(b));
        const withDistance = { columns: [...table.columns, SEPARATION_COLUMN], rows };
        return { kind: 'table', table: pick(withDistance, columns), format, name: 'conesearch' };
      },
    },

    latests: {
      description: "Retrieve the latest alerts of Fink's class (one per object, newest first).",
      args: [
        arg('class', true, 'Fink derived label. See /api/v1/classes for available tags.'),
        arg('trend', false, 'Desired trend among: rising, fading.'),
        arg('n', false, 'Last N alerts to transfer between stopping date and starting date. Default is 100.'),
        arg('startdate', false, 'Starting date in UTC (iso, jd, or MJD). Default is 2019-11-01 00:00:00'),
        arg('stopdate', false, 'Stopping date in UTC (iso, jd, or MJD). Default is now.'),
        arg('color', false, 'If True, extract color information (v:g-r is always included here).'),
        COLUMNS,
        OUTPUT_FORMAT,
      ],
      async run(payload) {
        const label = requiredString(payload, 'class').replace(/^\(SIMBAD\)\s*/, '');
        if (label.startsWith('(TNS)')) {
          throw new RestError(
            400,
            '`class`: TNS classes are not available on this server (no TNS cross-match)',
            'class',
          );
        }
        const trend = stringArg(payload, 'trend');
        if (trend !== undefined && trend !== 'rising' && trend !== 'fading') {
          throw new RestError(400, '`trend` must be rising or fading', 'trend');
        }
        const n = integerArg(payload, 'n', DEFAULT_LATESTS_N, { min: 1, max: MAX_N });
        booleanArg(payload, 'color');
        const jdMin = dateArg(payload, 'startdate') ?? DEFAULT_START_JD;
        const jdMax = dateArg(payload, 'stopdate') ?? nowJd();
        if (jdMax < jdMin) throw new RestError(400, '`stopdate` is before `startdate`', 'stopdate');
        const format = outputFormat(payload);
        const columns = columnsArg(payload);
        const objectIds = await alerts.latestByClass({
          label,
          jdMin,
          jdMax,
          rising: trend === undefined ? undefined : trend === 'rising',
          limit: n,
        });
        const all = await alerts.alertsByObjectIds(objectIds);
        const latest = new Map<string, AlertRecord>();
        for (const record of all) {
          if (record.label !== label || record.jd < jdMin || record.jd > jdMax) continue;
          const kept = latest.get(record.objectId);
          if (kept === undefined || record.jd > kept.jd) latest.set(record.objectId, record);
        }
        const table = await tableOf([...latest.values()]);
        return { kind: 'table', table: pick(table, columns), format, name: 'latests' };
      },
    },

    sso: {
      description: 'Retrieve the alerts of solar-system objects from their number or designation.',
      args: [
        arg(
          'n_or_d',
          true,
          'IAU number (8467) or designation (2010JO69) of the object, or a comma-separated list.',
        ),
        arg('withEphem', false, 'Not available on this server (needs the Miriade service).'),
        arg('withResiduals', false, 'Not available on this server (needs the sHG1G2 fit).'),
        arg('withCutouts', false, 'If True, add the cutouts as 2D arrays. See also `cutout-kind`.'),
        CUTOUT_KIND,
        COLUMNS,
        OUTPUT_FORMAT,
      ],
      async run(payload) {
        const names = listArg(payload, 'n_or_d', MAX_NAMES).map((name) => name.replace(/\s+/g, ''));
        for (const name of ['withEphem', 'withResiduals']) {
          if (booleanArg(payload, name)) {
            throw new RestError(400, `\`${name}\` is not available on this server: it works offline`, name);
          }
        }
        const kinds = cutoutKinds(payload, 'withCutouts');
        const format = outputFormat(payload);
        const columns = columnsArg(payload);
        const objectIds = (
          await Promise.all(names.map((name) => alerts.objectIdsBySolarSystemName(name, MAX_N)))
        ).flat();
        const wanted = new Set(names);
        const records = (await alerts.alertsByObjectIds([...new Set(objectIds)])).filter((record) =>
          wanted.has(record.ssName),
        );
        const alertRows = await tableOf(records);
        const table = kinds.length > 0 ? await cutoutArrays(alertRows, kinds) : alertRows;
        return { kind: 'table', table: pick(table, columns), format, name: 'sso' };
      },
    },

    cutouts: {
      description: "Retrieve an alert's cutout as PNG, FITS or a 2D array.",
      args: [
        arg('objectId', true, 'Object ID'),
        arg('kind', true, 'Science, Template, or Difference. For output-format=array, also All.'),
        arg('output-format', false, 'PNG[default], FITS, array'),
        arg('candid', false, 'Alert id (long integer) of the object; the latest alert by default.'),
        arg('stretch', false, 'Accepted; the PNG is zscaled (linear between the zscale limits).'),
        arg('colormap', false, 'Accepted; the PNG is grey.'),
        arg('pmin', false, 'Accepted; the PNG is zscaled.'),
        arg('pmax', false, 'Accepted; the PNG is zscaled.'),
        arg('convolution_kernel', false, 'Accepted; no kernel is applied.'),
      ],
      async run(payload) {
        const objectId = requiredString(payload, 'objectId');
        const kindText = requiredString(payload, 'kind');
        const format = (stringArg(payload, 'output-format') ?? 'PNG').toLowerCase();
        if (!['png', 'fits', 'array'].includes(format)) {
          throw new RestError(400, '`output-format` must be PNG, FITS or array', 'output-format');
        }
        const allowed = format === 'array' ? [...CUTOUT_KINDS, 'All'] : [...CUTOUT_KINDS];
        const kind = allowed.find((k) => k.toLowerCase() === kindText.toLowerCase());
        if (kind === undefined) {
          throw new RestError(400, `\`kind\` must be one of ${allowed.join(', ')}`, 'kind');
        }
        for (const name of ['pmin', 'pmax']) numberArg(payload, name);
        const candidText = stringArg(payload, 'candid');
        let alertId: bigint;
        if (candidText !== undefined && candidText.trim() !== '') {
          if (!/^\d{1,20}$/.test(candidText.trim())) {
            throw new RestError(400, '`candid` must be a decimal integer', 'candid');
          }
          alertId = BigInt(candidText.trim());
          const [record] = await alerts.alertsByIds([alertId]);
          if (record === undefined || record.objectId !== objectId) {
            throw new RestError(404, `alert ${alertId} of ${objectId} is not stored`, 'candid');
          }
        } else {
          const [object] = await alerts.objectsByIds([objectId]);
          if (object === undefined) throw new RestError(404, `object ${objectId} is not stored`, 'objectId');
          alertId = object.lastAlertId;
        }
        const stored = (await cutouts.byAlertIds([alertId])).get(alertId);
        if (stored === undefined) throw new RestError(404, `alert ${alertId} has no cutouts`, 'candid');
        const bytesOf = (k: FinkCutoutKind) => {
          const bytes = stored[k.toLowerCase() as 'science' | 'template' | 'difference'];
          if (bytes === null) throw new RestError(404, `alert ${alertId} has no ${k} cutout`, 'kind');
          return bytes;
        };
        if (format === 'array') {
          const kinds = kind === 'All' ? CUTOUT_KINDS : [kind as FinkCutoutKind];
          const value: Record<string, unknown> = {};
          for (const k of kinds) value[`b:cutout${k}_stampData`] = pixelRows(bytesOf(k));
          return { kind: 'json', value };
        }
        const bytes = bytesOf(kind as FinkCutoutKind);
        return format === 'png'
          ? {
              kind: 'bytes',
              contentType: 'image/png',
              body: renderCutoutPng(parseFitsImage(bytes)),
              filename: `${alertId}-${kind}.png`,
            }
          : {
              kind: 'bytes',
              contentType: 'application/fits',
              body: fitsBytes(bytes),
              filename: `${alertId}-${kind}.fits`,
            };
      },
    },

    resolver: {
      description: 'Resolve names offline: catalogue counterparts, solar-system names and stored objects.',
      args: [
        arg('resolver', true, 'Resolver among: `simbad`, `ssodnet`, `tns`'),
        arg('name', true, 'Object name to resolve.'),
        arg('reverse', false, 'If True, resolve an object ID (ZTF or Rubin) into names instead.'),
        arg('nmax', false, 'Maximum number of matches to return. Default is 10.'),
        OUTPUT_FORMAT,
      ],
      async run(payload) {
        const resolver = requiredString(payload, 'resolver').toLowerCase();
        if (!['simbad', 'ssodnet', 'tns'].includes(resolver)) {
          throw new RestError(400, '`resolver` must be one of simbad, ssodnet, tns', 'resolver');
        }
        const name = requiredString(payload, 'name');
        const reverse = booleanArg(payload, 'reverse');
        const nmax = integerArg(payload, 'nmax', 10, { min: 1, max: 1000 });
        const format = outputFormat(payload);
        const table = await resolve(resolver, name, reverse, nmax);
        return { kind: 'table', table, format, name: 'resolver' };
      },
    },

    statistics: {
      description: 'Statistics per observing night: alerts and objects stored, and per class.',
      args: [
        arg(
          'date',
          true,
          "Observing date: a night (YYYYMMDD), a month (YYYYMM), a year (YYYY), or everything ('').",
        ),
        arg('schema', false, 'If True, return just the schema of statistics table instead of actual data'),
        COLUMNS,
        OUTPUT_FORMAT,
      ],
      async run(payload) {
        const date = (stringArg(payload, 'date') ?? '').trim();
        const range = nightRange(date);
        const format = outputFormat(payload);
        const columns = columnsArg(payload);
        const [stored, received] = await Promise.all([
          alerts.nightStats(range[0], range[1]),
          archive.receivedPerNight(range[0], range[1]),
        ]);
        // Every night something was received, stored or not (a night whose alerts all failed the cuts too).
        const storedByNight = new Map(stored.map((night) => [night.night, night]));
        const receivedByNight = new Map<string, number>();
        for (const { night, alerts: n } of received) {
          receivedByNight.set(night, (receivedByNight.get(night) ?? 0) + n);
        }
        const nights = [...new Set([...storedByNight.keys(), ...receivedByNight.keys()])].sort();
        const labels = [...new Set(stored.flatMap((night) => night.byClass.map((c) => c.label)))].sort();
        const table: ExportTable = {
          columns: [
            { name: 'key:key', type: 'string', ucd: 'meta.id', description: 'survey_YYYYMMDD' },
            {
              name: 'basic:date',
              type: 'string',
              ucd: 'time.epoch',
              description: 'Observing night, YYYYMMDD',
            },
            {
              name: 'basic:raw',
              type: 'long',
              ucd: 'meta.number',
              description: 'Alerts received (the raw archive, before the quality cuts)',
            },
            {
              name: 'basic:sci',
              type: 'long',
              ucd: 'meta.number',
              description: 'Alerts stored (passed the cuts)',
            },
            { name: 'basic:objects', type: 'long', ucd: 'meta.number', description: 'Objects with an alert' },
            ...labels.map((label): ExportColumn => ({
              name: `class:${label}`,
              type: 'long',
              ucd: 'meta.number',
              description: `Alerts labelled ${label}`,
            })),
          ],
          rows: nights.map((night) => {
            const compact = night.replace(/-/g, '');
            const counts = storedByNight.get(night);
            const row: Record<string, bigint | string> = {
              'key:key': `ztf_${compact}`,
              'basic:date': compact,
              'basic:raw': BigInt(receivedByNight.get(night) ?? 0),
              'basic:sci': BigInt(counts?.alerts ?? 0),
              'basic:objects': BigInt(counts?.objects ?? 0),
            };
            for (const label of labels) row[`class:${label}`] = 0n;
            for (const c of counts?.byClass ?? []) row[`class:${c.label}`] = BigInt(c.alerts);
            return row;
          }),
        };
        if (booleanArg(payload, 'schema')) {
          return {
            kind: 'json',
            value: Object.fromEntries(
              table.columns.map((c) => [c.name, { type: c.type, doc: c.description }]),
            ),
          };
        }
        return { kind: 'table', table: pick(table, columns), format, name: 'statistics' };
      },
    },

    search: {
      description:
        'Alerts matching a filter of the GraphQL API (AlertFilter, as JSON), newest first: not a route of Fink.',
      args: [
        arg(
          'filter',
          true,
          'An AlertFilter as a JSON object (or its JSON text), e.g. {"label": ["SN candidate"]}.',
        ),
        arg('n', false, `Alerts to return, at most server.maxPageSize. Default is ${DEFAULT_SEARCH_N}.`),
        COLUMNS,
        OUTPUT_FORMAT,
      ],
      async run(payload) {
        let filter = payload.filter;
        if (typeof filter === 'string') {
          try {
            filter = JSON.parse(filter) as unknown;
          } catch {
            throw new RestError(400, '`filter` is not valid JSON', 'filter');
          }
        }
        let spec;
        try {
          spec = validateFilter(filter, 'filter', config);
        } catch (err) {
          if (err instanceof FilterError)
            throw new RestError(400, `\`${err.path}\`: ${err.reason}`, 'filter');
          throw err;
        }
        const n = integerArg(payload, 'n', Math.min(DEFAULT_SEARCH_N, config.maxPageSize), {
          min: 1,
          max: config.maxPageSize,
        });
        const format = outputFormat(payload);
        const columns = columnsArg(payload);
        const table = await tableOf(await alerts.search(spec, null, n));
        return { kind: 'table', table: pick(table, columns), format, name: 'search' };
      },
    },

    classes: {
      description: "Fink's derived class names, and their origin.",
      args: [],
      async run() {
        const counts = await alerts.classCounts();
        const fink = new Set<string>(Object.values(FINK_LABELS));
        const simbad = counts
          .map((c) => c.label)
          .filter((label) => !fink.has(label))
          .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))
          .map((label) => `(SIMBAD) ${label}`);
        return {
          kind: 'json',
          value: {
            'Fink classifiers': [...fink].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
            'Cross-match with TNS': [],
            'Cross-match with SIMBAD (labels of the loaded overriding catalogues seen in the stored alerts)':
              simbad,
          },
        };
      },
    },

    schema: {
      description: 'The columns of the tables, with their types, units, UCDs and descriptions.',
      args: [],
      async run() {
        const refs = await catalogRefs();
        const describe = (columns: readonly ExportColumn[]) =>
          Object.fromEntries(
            columns.map((c) => [
              c.name,
              {
                type: c.type,
                ...(c.unit === undefined ? {} : { unit: c.unit }),
                ...(c.ucd === undefined ? {} : { ucd: c.ucd }),
                doc: c.description ?? '',
              },
            ]),
          );
        return {
          kind: 'json',
          value: {
            'ZTF original fields (i:)': describe(ZTF_CANDIDATE_COLUMNS),
            'Fink science module outputs (d:)': describe([
              ...SCIENCE_COLUMNS,
              ...[...FINK_ZTF_SCORES, ...FINK_RUBIN_SCORES].map(scoreColumn),
              ...refs.map((ref) => catalogColumn(ref.name)),
              TAG_COLUMN,
            ]),
            'Fink added values (v:)': describe([...DERIVED_COLUMNS, SEPARATION_COLUMN]),
            'Cutouts (b:)': describe(CUTOUT_KINDS.map(cutoutColumn)),
          },
        };
      },
    },
  };

  async function resolve(
    resolver: string,
    name: string,
    reverse: boolean,
    nmax: number,
  ): Promise<ExportTable> {
    if (resolver === 'ssodnet') {
      if (reverse) {
        const records = await alerts.alertsByObjectIds([name]);
        const names = [...new Set(records.map((r) => r.ssName).filter((s) => s !== ''))].slice(0, nmax);
        return {
          columns: [
            { name: 'i:objectId', type: 'string', ucd: 'meta.id;meta.main' },
            { name: 'i:ssnamenr', type: 'string', ucd: 'meta.id' },
          ],
          rows: names.map((ss) => ({ 'i:objectId': name, 'i:ssnamenr': ss })),
        };
      }
      const compact = name.replace(/\s+/g, '');
      const objectIds = await alerts.objectIdsBySolarSystemName(compact, 1);
      return {
        columns: [
          { name: 'i:name', type: 'string', ucd: 'meta.id', description: 'The name asked for' },
          {
            name: 'i:ssnamenr',
            type: 'string',
            ucd: 'meta.id',
            description: "ZTF's ssnamenr of the stored alerts",
          },
        ],
        rows: objectIds.length === 0 ? [] : [{ 'i:name': name, 'i:ssnamenr': compact }],
      };
    }
    const columns: ExportColumn[] = [
      { name: 'i:objectId', type: 'string', ucd: 'meta.id;meta.main' },
      {
        name: 'd:fullname',
        type: 'string',
        ucd: 'meta.id',
        description: 'Name (source id) in the catalogue',
      },
      {
        name: 'd:type',
        type: 'string',
        ucd: 'src.class',
        description: "The catalogue's class of the source",
      },
      { name: 'd:catalog', type: 'string', ucd: 'meta.ref', description: 'The catalogue' },
      { name: 'd:separation_arcsec', type: 'double', unit: 'arcsec', ucd: 'pos.angDistance' },
      { name: 'jradeg', type: 'double', unit: 'deg', ucd: 'pos.eq.ra;meta.main' },
      { name: 'jdedeg', type: 'double', unit: 'deg', ucd: 'pos.eq.dec;meta.main' },
    ];
    if (reverse) {
      const [objects, matches] = await Promise.all([
        alerts.objectsByIds([name]),
        alerts.crossmatchesByObjectIds([name]),
      ]);
      const object = objects[0];
      const seen = new Set<string>();
      const rows = matches
        .filter((m) => {
          const key = `${m.catalog}\u0000${m.sourceId}`;
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        })
        .slice(0, nmax)
        .map((m) => ({
          'i:objectId': m.objectId,
          'd:fullname': m.sourceId,
          'd:type': m.type === '' ? null : m.type,
          'd:catalog': m.catalog,
          'd:separation_arcsec': m.distanceArcsec,
          jradeg: object?.ra ?? null,
          jdedeg: object?.dec ?? null,
        }));
      if (rows.length === 0 && object !== undefined) {
        rows.push({
          'i:objectId': name,
          'd:fullname': name,
          'd:type': null,
          'd:catalog': 'fink',
          'd:separation_arcsec': 0,
          jradeg: object.ra,
          jdedeg: object.dec,
        });
      }
      return { columns, rows };
    }
    const [matches, stored] = await Promise.all([
      alerts.crossmatchesBySourceIds([name], nmax * 20),
      alerts.objectsByIds([name]),
    ]);
    const firstPerObject = new Map<string, (typeof matches)[number]>();
    for (const match of matches)
      if (!firstPerObject.has(match.objectId)) firstPerObject.set(match.objectId, match);
    const objects = new Map(
      (await alerts.objectsByIds([...firstPerObject.keys()])).map((object) => [object.objectId, object]),
    );
    const rows = [...firstPerObject.values()].slice(0, nmax).map((m) => ({
      'i:objectId': m.objectId,
      'd:fullname': m.sourceId,
      'd:type': m.type === '' ? null : m.type,
      'd:catalog': m.catalog,
      'd:separation_arcsec': m.distanceArcsec,
      jradeg: objects.get(m.objectId)?.ra ?? null,
      jdedeg: objects.get(m.objectId)?.dec ?? null,
    }));
    for (const object of stored) {
      rows.unshift({
        'i:objectId': object.objectId,
        'd:fullname': object.objectId,
        'd:type': object.label,
        'd:catalog': 'fink',
        'd:separation_arcsec': 0,
        jradeg: object.ra,
        jdedeg: object.dec,
      });
    }
    return { columns, rows: rows.slice(0, nmax) };
  }

  function send(res: ServerResponse, status: number, contentType: string, body: Uint8Array | string): void {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (bytes.byteLength > config.maxResponseBytes) {
      throw new RestError(
        400,
        `the result is ${bytes.byteLength} bytes, more than ${config.maxResponseBytes} (server.maxResponseBytes): ` +
          'ask for fewer objects or fewer `columns`',
        'columns',
      );
    }
    res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': bytes.byteLength,
      'Cache-Control': 'no-store',
    });
    res.end(bytes);
  }

  function sendError(res: ServerResponse, err: unknown, route: string): void {
    let status = 500;
    let text = 'Internal server error';
    let argument: string | undefined;
    if (err instanceof RestError) {
      status = err.status;
      text = err.message;
      argument = err.argument;
    } else if (err instanceof ExportError) {
      status = 400;
      text = `\`columns\`: ${err.message}`;
      argument = 'columns';
    } else if (err instanceof StorageError && err.code === 'timeout') {
      status = 504;
      text = err.message;
    } else if (err instanceof StorageError && err.code === 'limit-exceeded') {
      status = 400;
      text = err.message;
    } else if (err instanceof StorageError && err.code === 'cancelled') {
      res.destroy();
      return;
    } else if (err instanceof StorageError && err.retriable) {
      status = 503;
      text = 'storage is unavailable, retry later';
      log.warn({ err, route }, 'REST request failed');
    } else {
      log.error({ err, route }, 'REST request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({ status: 'error', text, ...(argument === undefined ? {} : { argument }) });
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(body);
  }

  return {
    matches: (pathname) => pathname === '/api/v1' || pathname.startsWith(REST_PREFIX),
    async handle(request, res) {
      const name = request.url.pathname.slice(REST_PREFIX.length).replace(/\/$/, '');
      const route = Object.hasOwn(routes, name) ? routes[name] : undefined;
      try {
        if (route === undefined) {
          throw new RestError(
            404,
            `no route ${request.url.pathname}; the routes are ${Object.keys(routes)
              .map((r) => REST_PREFIX + r)
              .join(', ')}`,
          );
        }
        const method = request.req.method ?? 'GET';
        if (method !== 'GET' && method !== 'POST') {
          res.setHeader('Allow', 'GET, POST');
          throw new RestError(405, `${method} is not allowed; use GET or POST`);
        }
        const payload = parsePayload(
          request.url.searchParams,
          request.body,
          request.req.headers['content-type'],
        );
        if (method === 'GET' && Object.keys(payload).length === 0 && route.args.some((a) => a.required)) {
          // As Fink: a bare GET describes the route.
          const lines = [
            `${REST_PREFIX}${name}: ${route.description}`,
            '',
            ...route.args.map((a) => `  ${a.name}${a.required ? ' (required)' : ''}: ${a.description}`),
          ];
          send(res, 200, 'text/plain; charset=utf-8', `${lines.join('\n')}\n`);
          return;
        }
        checkArgs(`${REST_PREFIX}${name}`, route.args, payload);
        const answer = await route.run(payload, request);
        switch (answer.kind) {
          case 'json':
            send(res, 200, 'application/json', JSON.stringify(answer.value));
            return;
          case 'bytes':
            res.setHeader('Content-Disposition', `inline; filename="${answer.filename}"`);
            send(res, 200, answer.contentType, answer.body);
            return;
          case 'table': {
            const extension = answer.format === 'votable' ? 'xml' : answer.format;
            res.setHeader('Content-Disposition', `inline; filename="${answer.name}.${extension}"`);
            send(res, 200, CONTENT_TYPES[answer.format], encodeTable(answer.table, answer.format));
            return;
          }
        }
      } catch (err) {
        res.removeHeader('Content-Disposition');
        sendError(res, err, name);
      }
    },
  };
}

/** `withcutouts` / `withCutouts` and `cutout-kind`: the kinds to add as 2D arrays (none when not asked). */
function cutoutKinds(payload: Payload, flag: string): FinkCutoutKind[] {
  if (!booleanArg(payload, flag)) {
    stringArg(payload, 'cutout-kind');
    return [];
  }
  const text = stringArg(payload, 'cutout-kind');
  if (text === undefined || text === '' || text === 'All') return [...CUTOUT_KINDS];
  const kind = CUTOUT_KINDS.find((k) => k.toLowerCase() === text.trim().toLowerCase());
  if (kind === undefined) {
    throw new RestError(400, '`cutout-kind` must be Science, Template, Difference or All', 'cutout-kind');
  }
  return [kind];
}

function pick(table: ExportTable, columns: readonly string[] | undefined): ExportTable {
  return columns === undefined ? table : selectColumns(table, [...new Set(columns)]);
}

/** A cutout's pixels as rows (FITS order, as astropy's data[0] is the first row); blank pixels null. */
function pixelRows(stored: Uint8Array): (number | null)[][] {
  const image = parseFitsImage(stored);
  const rows: (number | null)[][] = [];
  for (let y = 0; y < image.height; y++) {
    const row: (number | null)[] = [];
    for (let x = 0; x < image.width; x++) {
      const value = image.pixels[y * image.width + x]!;
      row.push(Number.isFinite(value) ? value : null);
    }
    rows.push(row);
  }
  return rows;
}

/** `date` of /statistics -> [first night, last night] as 'YYYY-MM-DD'. */
function nightRange(date: string): [string, string] {
  if (date === '') return ['1970-01-01', '2100-12-31'];
  const match = /^(\d{4})(\d{2})?(\d{2})?$/.exec(date);
  if (match === null) {
    throw new RestError(400, '`date` must be YYYYMMDD, YYYYMM, YYYY or empty', 'date');
  }
  const [, y, m, d] = match;
  if (m === undefined) return [`${y}-01-01`, `${y}-12-31`];
  if (Number(m) < 1 || Number(m) > 12) throw new RestError(400, '`date`: no month ' + m, 'date');
  const last = String(new Date(Date.UTC(Number(y), Number(m), 0)).getUTCDate());
  if (d === undefined) return [`${y}-${m}-01`, `${y}-${m}-${last}`];
  if (Number(d) < 1 || Number(d) > Number(last))
    throw new RestError(400, `\`date\`: no day ${d} in ${y}-${m}`, 'date');
  return [`${y}-${m}-${d}`, `${y}-${m}-${d}`];
}
