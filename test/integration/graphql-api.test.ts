// The GraphQL API over HTTP on a database the real pipeline filled from the 611 real ZTF alerts (and the shared
// catalogs): every query kind against what ClickHouse holds, bad arguments, limits, and the role matrix.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { buildFinkSchema } from '../../src/resolvers/index.ts';
import { startServer } from '../../src/server/server.ts';
import { createConfiguredDecoder } from '../../src/pipeline/decode/configured-decoder.ts';
import { createClickHouseStores } from '../../src/resolvers/stores.ts';
import { queryRows } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import { angularDistanceArcsec } from '../../src/sky/angles.ts';
import type { PhotometryPoint } from '../../src/pipeline/alert.ts';
import { realZtfAlerts } from '../helpers/alerts.ts';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';

let api: ApiSandbox;

const rows = <T>(statement: ReturnType<typeof sql>) => queryRows<T>(api.pipeline.db.client, statement);

beforeAll(async () => {
  api = await createApiSandbox('gql', { withAlerts: true });
}, 400_000);

afterAll(async () => {
  await api?.stop();
});

describe('alerts and objects', () => {
  it('returns an alert by candid with its 64-bit id exact, its candidate record and cutout URLs', async () => {
    const [stored] = await rows<{ id: string; object_id: string }>(
      sql`SELECT toString(alert_id) AS id, object_id FROM alerts FINAL ORDER BY alert_id DESC LIMIT 1`,
    );
    const { data, errors } = await api.query(
      `query($id: String!) { alert(alertId: $id) { alertId objectId candidate
         cutouts { science { png fits } } object { objectId } } }`,
      { id: stored!.id },
    );
    expect(errors).toBeUndefined();
    const alert = data!.alert as {
      alertId: string;
      objectId: string;
      candidate: { candid: string };
      cutouts: { science: { png: string } };
      object: { objectId: string };
    };
    expect(alert.alertId).toBe(stored!.id);
    expect(alert.objectId).toBe(stored!.object_id);
    expect(alert.candidate.candid).toBe(stored!.id);
    expect(alert.object.objectId).toBe(stored!.object_id);
    const png = await fetch(alert.cutouts.science.png);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
  });

  it('returns null for an unknown alert and NOT an error', async () => {
    const { data, errors } = await api.query(`{ alert(alertId: "1") { alertId } }`);
    expect(errors).toBeUndefined();
    expect(data!.alert).toBeNull();
  });

  it("returns negative detections as detections, with Fink's DC magnitude as the ZTF mapping computes it", async () => {
    // One detection (candid) can come with slightly different photometry in different alerts: the stored row is
    // one of them, whole.
    const expected = new Map<string, PhotometryPoint[]>();
    for (const { alert } of realZtfAlerts()) {
      for (const point of alert.points) {
        if (point.sourceId === null) continue;
        const id = point.sourceId.toString();
        expected.set(id, [...(expected.get(id) ?? []), point]);
      }
    }
    const [object] = await rows<{ object_id: string; neg: string }>(
      sql`SELECT object_id, countIf(kind = 'detection' AND negative = 1) AS neg FROM lightcurve FINAL
          GROUP BY object_id HAVING neg > 0 ORDER BY toUInt64(neg) DESC, object_id LIMIT 1`,
    );
    expect(object).toBeDefined();
    const { data, errors } = await api.query(
      `query($id: String!) { object(objectId: $id) {
         lightCurve { kind negative mag magErr dcMag dcMagErr sourceId }
         lightCurveByBand { detections { negative } } } }`,
      { id: object!.object_id },
    );
    expect(errors).toBeUndefined();
    type Point = Pick<PhotometryPoint, 'kind' | 'negative' | 'mag' | 'dcMag' | 'dcMagErr'> & {
      sourceId: string;
    };
    const { lightCurve, lightCurveByBand } = data!.object as {
      lightCurve: Point[];
      lightCurveByBand: { detections: { negative: boolean }[] }[];
    };
    const detections = lightCurve.filter((p) => p.kind === 'detection');
    expect(detections.filter((p) => p.negative)).toHaveLength(Number(object!.neg));
    const negativePerBand = lightCurveByBand.flatMap((b) => b.detections).filter((p) => p.negative);
    expect(negativePerBand).toHaveLength(Number(object!.neg));
    for (const point of detections) {
      const mapped = expected.get(point.sourceId)?.find((p) => p.mag === point.mag);
      expect(mapped, point.sourceId).toBeDefined();
      expect(point.negative).toBe(mapped!.negative);
      if (mapped!.dcMag === null) {
        expect(point.dcMag).toBeNull();
        continue;
      }
      expect(point.dcMag).toBeCloseTo(mapped!.dcMag, 9);
      expect(point.dcMagErr).toBeCloseTo(mapped!.dcMagErr!, 9);
    }
    expect(detections.some((p) => p.dcMag !== null)).toBe(true);
  });

  it('returns an object with every light-curve point stored, per band too, and its classification history', async () => {
    const [busiest] = await rows<{ object_id: string; n: string }>(
      sql`SELECT object_id, count() AS n FROM lightcurve FINAL GROUP BY object_id ORDER BY n DESC, object_id LIMIT 1`,
    );
    const alerts = await rows<{ id: string }>(
      sql`SELECT toString(alert_id) AS id FROM alerts FINAL WHERE object_id = ${busiest!.object_id}`,
    );
    const { data, errors } = await api.query(
      `query($id: String!) { object(objectId: $id) {
         objectId lightCurve { jd band kind mag limitMag }
         lightCurveByBand { band detections { jd } upperLimits { jd } }
         classification { label scores { classifier version score modelFile modelSha256 finkScienceVersion } }
         classificationHistory { alertId label version }
         alerts { alertId } } }`,
      { id: busiest!.object_id },
    );
    expect(errors).toBeUndefined();
    const object = data!.object as {
      lightCurve: unknown[];
      lightCurveByBand: { detections: unknown[]; upperLimits: unknown[] }[];
      alerts: { alertId: string }[];
      classificationHistory: unknown[];
      classification: {
        scores: {
          classifier: string;
          version: string;
          modelFile: string | null;
          modelSha256: string | null;
          finkScienceVersion: string | null;
        }[];
      };
    };
    expect(object.lightCurve).toHaveLength(Number(busiest!.n));
    const perBand = object.lightCurveByBand.reduce(
      (n, band) => n + band.detections.length + band.upperLimits.length,
      0,
    );
    expect(perBand).toBe(Number(busiest!.n));
    expect(object.alerts.map((a) => a.alertId).sort()).toEqual(alerts.map((a) => a.id).sort());
    expect(object.classificationHistory).toHaveLength(alerts.length);
    expect(object.classification.scores.length).toBeGreaterThan(0);
    for (const score of object.classification.scores) {
      expect(score.version).not.toBe('');
      // Every Fink score names its model, its SHA-256 and its release (kilonova's only with kndetect installed).
      expect(score.finkScienceVersion).toBe('7.4.0');
      if (score.modelFile === null) {
        expect(score.classifier).toBe('rf_kn_vs_nonkn');
        continue;
      }
      expect(score.modelSha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('returns objects in bulk in the order asked, leaving unknown ids out', async () => {
    const ids = await rows<{ object_id: string }>(
      sql`SELECT object_id FROM objects FINAL ORDER BY object_id LIMIT 5`,
    );
    const asked = [...ids.map((r) => r.object_id).reverse(), 'ZTF00nonexistent'];
    const { data } = await api.query(`query($ids: [String!]!) { objects(objectIds: $ids) { objectId } }`, {
      ids: asked,
    });
    expect((data!.objects as { objectId: string }[]).map((o) => o.objectId)).toEqual(asked.slice(0, 5));
  });

  it('shows the catalog counterpart the pipeline found', async () => {
    const [match] = await rows<{ object_id: string; catalog: string; source_id: string }>(
      sql`SELECT object_id, catalog, source_id FROM crossmatches FINAL LIMIT 1`,
    );
    expect(match).toBeDefined();
    const { data } = await api.query(
      `query($id: String!) { object(objectId: $id) { crossmatches { catalog sourceId distanceArcsec } } }`,
      { id: match!.object_id },
    );
    expect((data!.object as { crossmatches: unknown[] }).crossmatches).toContainEqual(
      expect.objectContaining({ catalog: match!.catalog, sourceId: match!.source_id }),
    );
  });
});

describe('archive queries', () => {
  it('finds an object by cone search, nearest first, and honours the first-detection window', async () => {
    const [target] = await rows<{ object_id: string; ra: number; dec: number; first_jd: number }>(
      sql`SELECT object_id, ra, dec, first_jd FROM alerts FINAL ORDER BY alert_id LIMIT 1`,
    );
    const cone = `query($ra: Float!, $dec: Float!, $after: Float) {
      coneSearch(ra: $ra, dec: $dec, radiusArcsec: 600, firstDetectedAfterJd: $after) {
        distanceArcsec object { objectId } } }`;
    const { data } = await api.query(cone, { ra: target!.ra, dec: target!.dec });
    const found = data!.coneSearch as { distanceArcsec: number; object: { objectId: string } }[];
    expect(found[0]!.object.objectId).toBe(target!.object_id);
    expect(found[0]!.distanceArcsec).toBeLessThan(2);
    const distances = found.map((hit) => hit.distanceArcsec);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    for (const distance of distances) expect(distance).toBeLessThanOrEqual(600);

    const later = await api.query(cone, { ra: target!.ra, dec: target!.dec, after: target!.first_jd + 1e6 });
    expect(later.data!.coneSearch).toEqual([]);
  });

  it('pages a cone search with a cursor through every object in the cone, saying when there are more', async () => {
    const alerts = await rows<{ object_id: string; ra: number; dec: number }>(
      sql`SELECT object_id, ra, dec FROM alerts FINAL`,
    );
    const radius = api.config.server.maxConeRadiusArcsec;
    /** Objects within the radius of a centre, nearest first, as the API orders them. */
    const inCone = (ra: number, dec: number) => {
      const nearest = new Map<string, number>();
      for (const alert of alerts) {
        const d = angularDistanceArcsec(ra, dec, alert.ra, alert.dec);
        if (d <= radius) nearest.set(alert.object_id, Math.min(d, nearest.get(alert.object_id) ?? Infinity));
      }
      return [...nearest].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    };
    // The densest cone centred on an alert: several pages of 2.
    const centre = alerts
      .map((alert) => ({ alert, n: inCone(alert.ra, alert.dec).length }))
      .sort((a, b) => b.n - a.n)[0]!.alert;
    const expected = inCone(centre.ra, centre.dec);
    expect(expected.length).toBeGreaterThan(4);

    const page = `query($ra: Float!, $dec: Float!, $r: Float!, $after: String) {
      coneSearchPage(ra: $ra, dec: $dec, radiusArcsec: $r, first: 2, after: $after) {
        items { distanceArcsec object { objectId } } endCursor hasNextPage } }`;
    const seen: [string, number][] = [];
    let after: string | null = null;
    for (let i = 0; i < 100; i++) {
      const response: Awaited<ReturnType<ApiSandbox['query']>> = await api.query(page, {
        ra: centre.ra,
        dec: centre.dec,
        r: radius,
        after,
      });
      expect(response.errors).toBeUndefined();
      const result = response.data!.coneSearchPage as {
        items: { distanceArcsec: number; object: { objectId: string } }[];
        endCursor: string | null;
        hasNextPage: boolean;
      };
      for (const item of result.items) seen.push([item.object.objectId, item.distanceArcsec]);
      if (!result.hasNextPage) break;
      expect(result.items).toHaveLength(2);
      after = result.endCursor;
    }
    expect(seen.map(([id]) => id)).toEqual(expected.map(([id]) => id));
    seen.forEach(([, distance], i) => expect(distance).toBeCloseTo(expected[i]![1], 6));

    // The old list stops at `first` without a word; the page says there is more.
    const list = await api.query(
      `query($ra: Float!, $dec: Float!, $r: Float!) { coneSearch(ra: $ra, dec: $dec, radiusArcsec: $r, first: 2) {
         object { objectId } } }`,
      { ra: centre.ra, dec: centre.dec, r: radius },
    );
    expect((list.data!.coneSearch as unknown[]).length).toBe(2);
    const bad = await api.query(
      `{ coneSearchPage(ra: 1, dec: 1, radiusArcsec: 5, after: "bm90IGEgY3Vyc29y") { hasNextPage } }`,
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
  });

  it('lists the latest objects of a class in a window, the classes with counts and the nights', async () => {
    const [span] = await rows<{ lo: number; hi: number }>(
      sql`SELECT min(jd) AS lo, max(jd) AS hi FROM alerts FINAL`,
    );
    const expected = await rows<{ object_id: string }>(
      sql`SELECT DISTINCT object_id FROM alerts FINAL WHERE class = 'Solar System MPC'`,
    );
    const { data, errors } = await api.query(
      `query($lo: Float!, $hi: Float!) {
         latestObjects(label: "Solar System MPC", sinceJd: $lo, untilJd: $hi, first: 500) { objectId label }
         classes { label alerts objects }
         nightStats(fromNight: "2018-01-01", toNight: "2030-01-01") { night alerts objects byClass { label alerts } } }`,
      { lo: span!.lo, hi: span!.hi },
    );
    expect(errors).toBeUndefined();
    const latest = (data!.latestObjects as { objectId: string }[]).map((o) => o.objectId);
    expect(new Set(latest)).toEqual(new Set(expected.map((r) => r.object_id)));

    const [total] = await rows<{ n: string }>(sql`SELECT count() AS n FROM alerts FINAL`);
    const classes = data!.classes as { alerts: number }[];
    expect(classes.reduce((n, c) => n + c.alerts, 0)).toBe(Number(total!.n));
    const nights = data!.nightStats as { alerts: number; byClass: { alerts: number }[] }[];
    expect(nights.reduce((n, night) => n + night.alerts, 0)).toBe(Number(total!.n));
    for (const night of nights) {
      expect(night.byClass.reduce((n, c) => n + c.alerts, 0)).toBe(night.alerts);
    }
  });

  it('reads latestObjects without a window relative to the newest stored alert, and says why one is empty', async () => {
    const [newest] = await rows<{ jd: number }>(sql`SELECT max(jd) AS jd FROM alerts FINAL`);
    // The class of the newest alert: the default window (7 days before it) holds it, however old the alerts.
    const [last] = await rows<{ class: string }>(
      sql`SELECT class FROM alerts FINAL ORDER BY jd DESC, alert_id LIMIT 1`,
    );
    const expected = await rows<{ object_id: string }>(
      sql`SELECT DISTINCT object_id FROM alerts FINAL WHERE class = ${last!.class} AND jd >= ${newest!.jd - 7}`,
    );
    const WINDOW = `query($label: String!, $since: Float) {
      latestObjectsWindow(label: $label, sinceJd: $since, first: 500) {
        objects { objectId } sinceJd untilJd untilFrom newestAlertJd emptyReason } }`;
    type Window = {
      objects: { objectId: string }[];
      sinceJd: number;
      untilJd: number;
      untilFrom: string;
      newestAlertJd: number | null;
      emptyReason: string | null;
    };
    const window = async (variables: Record<string, unknown>): Promise<Window> => {
      const { data, errors } = await api.query(WINDOW, variables);
      expect(errors).toBeUndefined();
      return data!.latestObjectsWindow as Window;
    };
    const recent = await window({ label: last!.class });
    expect(recent).toMatchObject({ untilFrom: 'NEWEST_ALERT', emptyReason: null });
    expect(recent.newestAlertJd).toBeCloseTo(newest!.jd, 6);
    expect(recent.untilJd).toBeCloseTo(newest!.jd, 6);
    expect(recent.sinceJd).toBeCloseTo(newest!.jd - 7, 6);
    expect(new Set(recent.objects.map((o) => o.objectId))).toEqual(new Set(expected.map((r) => r.object_id)));
    // latestObjects answers the same objects.
    const plain = await api.query(
      `query($l: String!) { latestObjects(label: $l, first: 500) { objectId } }`,
      {
        l: last!.class,
      },
    );
    expect(plain.errors).toBeUndefined();
    expect(new Set((plain.data!.latestObjects as { objectId: string }[]).map((o) => o.objectId))).toEqual(
      new Set(expected.map((r) => r.object_id)),
    );

    const after = await window({ label: last!.class, since: newest!.jd + 10 });
    expect(after.objects).toEqual([]);
    expect(after.emptyReason).toContain('starts after the newest stored alert');

    const stored = new Set(
      (await rows<{ class: string }>(sql`SELECT DISTINCT class FROM alerts FINAL`)).map((r) => r.class),
    );
    const absent = ['Kilonova candidate', 'Early SN Ia candidate', 'Microlensing candidate', 'Tracklet'].find(
      (label) => !stored.has(label),
    );
    expect(absent).toBeDefined();
    const none = await window({ label: absent });
    expect(none.objects).toEqual([]);
    expect(none.emptyReason).toBe(`no alert of class '${absent}' is stored`);
  });

  it('finds solar-system objects by name, and lists the loaded catalogs with their sizes', async () => {
    const [named] = await rows<{ ss_name: string }>(
      sql`SELECT ss_name FROM alerts FINAL WHERE ss_name != '' LIMIT 1`,
    );
    const { data } = await api.query(
      `query($name: String!) { solarSystemObjects(name: $name) { ssName } catalogs { name rows } }`,
      { name: named!.ss_name },
    );
    const found = data!.solarSystemObjects as { ssName: string }[];
    expect(found.length).toBeGreaterThan(0);
    const catalogs = data!.catalogs as { name: string; rows: number }[];
    // The demo's catalogs: the shared ones and the fink-science wheel's.
    expect(catalogs.map((c) => c.name).sort()).toEqual(['3hsp', 'gcvs', 'mangrove', 'spicy', 'vsx', 'x4lac']);
    for (const catalog of catalogs) expect(catalog.rows).toBeGreaterThan(1000);
  });

  it('searches with the filter language, page by page, selecting exactly what SQL selects', async () => {
    const [expected] = await rows<{ n: string }>(
      sql`SELECT count() AS n FROM alerts FINAL WHERE band = 'g' AND mag < 19`,
    );
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      const response: Awaited<ReturnType<ApiSandbox['query']>> = await api.query(
        `query($after: String) { search(filter: { band: ["g"], mag: { max: 19 } }, first: 25, after: $after) {
           items { alertId band mag } endCursor hasNextPage } }`,
        { after },
      );
      expect(response.errors).toBeUndefined();
      const result = response.data!.search as {
        items: { alertId: string; band: string; mag: number }[];
        endCursor: string | null;
        hasNextPage: boolean;
      };
      for (const item of result.items) {
        expect(item.band).toBe('g');
        expect(item.mag).toBeLessThan(19);
        seen.push(item.alertId);
      }
      if (!result.hasNextPage) break;
      after = result.endCursor;
    }
    expect(seen.length).toBe(Number(expected!.n));
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('bad input and limits', () => {
  it.each([
    [
      'negative radius',
      `{ coneSearch(ra: 10, dec: 10, radiusArcsec: -1) { distanceArcsec } }`,
      'radiusArcsec',
    ],
    ['huge radius', `{ coneSearch(ra: 10, dec: 10, radiusArcsec: 1e9) { distanceArcsec } }`, 'radiusArcsec'],
    ['dec out of range', `{ coneSearch(ra: 10, dec: 91, radiusArcsec: 5) { distanceArcsec } }`, 'dec'],
    ['alert id not a number', `{ alert(alertId: "12abc") { alertId } }`, 'alertId'],
    ['alert id beyond 64 bits', `{ alert(alertId: "18446744073709551616") { alertId } }`, 'alertId'],
    ['injection in an object id', `{ object(objectId: "x' OR 1=1 --") { objectId } }`, 'objectId'],
    ['page too large', `{ latestObjects(label: "SN candidate", first: 100000) { objectId } }`, 'first'],
    ['unknown trend', `{ latestObjects(label: "SN candidate", trend: "UP") { objectId } }`, 'trend'],
    ['bad night', `{ nightStats(fromNight: "yesterday", toNight: "2020-01-01") { night } }`, 'fromNight'],
    ['bad cursor', `{ search(filter: {}, after: "%%%") { endCursor } }`, 'after'],
    ['filter min above max', `{ search(filter: { mag: { min: 20, max: 18 } }) { endCursor } }`, 'filter.mag'],
  ])('%s is BAD_USER_INPUT naming the argument', async (_name, source, argument) => {
    const { errors } = await api.query(source);
    expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(errors?.[0]?.message).toContain(argument);
  });

  it.each([
    [
      'search',
      `{ search(filter: { and: [{ band: ["g"] }, { label: ["SN candidat"] }] }) { endCursor } }`,
      'filter.and[1].label[0]',
    ],
    ['latestObjects', `{ latestObjects(label: "sn candidate") { objectId } }`, 'label'],
  ])(
    'an unknown class in %s is BAD_USER_INPUT listing the valid classes',
    async (_name, source, argument) => {
      const { errors, data } = await api.query(source);
      expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      expect(errors?.[0]?.message).toContain('unknown class');
      const classes = await api.query('{ alertClasses }');
      expect(classes.errors).toBeUndefined();
      const valid = classes.data!.alertClasses as string[];
      // No catalog of the demo overrides the label: the valid classes are Fink's labels.
      expect(valid).toEqual(expect.arrayContaining(['SN candidate', 'Solar System MPC', 'Unknown']));
      for (const name of valid) expect(errors?.[0]?.message).toContain(`'${name}'`);
      expect(data ?? null).toBeNull();
    },
  );

  it('lists the vote vocabulary: Fink labels, SIMBAD types, TNS types', async () => {
    const { data, errors } = await api.query('{ voteLabels { label sources } }');
    expect(errors).toBeUndefined();
    const labels = data!.voteLabels as { label: string; sources: string[] }[];
    expect(labels).toContainEqual({ label: 'Kilonova candidate', sources: ['FINK'] });
    expect(labels).toContainEqual({ label: 'EB*', sources: ['SIMBAD'] });
    expect(labels).toContainEqual({ label: 'SN IIn', sources: ['TNS'] });
  });

  it('refuses annotations, votes and follow-up requests on an object the archive does not hold (NOT_FOUND)', async () => {
    const token = await api.token('nf_annotator', 'annotator');
    const [stored] = await rows<{ object_id: string }>(sql`SELECT object_id FROM objects FINAL LIMIT 1`);
    const operations = [
      `mutation($o: String!) { addAnnotation(objectId: $o, input: { text: "seen" }) { id } }`,
      `mutation($o: String!) { castVote(objectId: $o, label: "SN Ia", confidence: 0.5) { label } }`,
      `mutation($o: String!) { requestFollowup(objectId: $o, facility: "LCO") { requestId } }`,
    ];
    for (const operation of operations) {
      const missing = await api.query(operation, { o: 'ZTF99zzzzzzz' }, token);
      expect(missing.errors?.[0]?.extensions?.code, operation).toBe('NOT_FOUND');
      expect(missing.errors?.[0]?.message).toBe('object ZTF99zzzzzzz not found');
      const found = await api.query(operation, { o: stored!.object_id }, token);
      expect(found.errors, operation).toBeUndefined();
    }
    const [written] = await rows<{ n: string }>(
      sql`SELECT (SELECT count() FROM annotations WHERE object_id = 'ZTF99zzzzzzz') +
                 (SELECT count() FROM votes WHERE object_id = 'ZTF99zzzzzzz') +
                 (SELECT count() FROM followups WHERE object_id = 'ZTF99zzzzzzz') AS n`,
    );
    expect(Number(written!.n)).toBe(0);
  });

  it('refuses too many ids at once', async () => {
    const ids = Array.from({ length: api.config.server.maxIds + 1 }, (_, i) => `ZTF${i}`);
    const { errors } = await api.query(`query($ids: [String!]!) { objects(objectIds: $ids) { objectId } }`, {
      ids,
    });
    expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a query nested deeper than the limit, before running it', async () => {
    let deep = 'objectId';
    for (let i = 0; i < 6; i++) deep = `alerts { object { ${deep} } }`;
    deep = `{ object(objectId: "ZTF18abc") { ${deep} } }`;
    const { errors } = await api.query(deep);
    expect(errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(errors?.[0]?.message).toContain('depth');
  });

  it('refuses a variable of the wrong type as BAD_USER_INPUT', async () => {
    const { errors } = await api.query(
      `query($r: Float!) { coneSearch(ra: 1, dec: 1, radiusArcsec: $r) { distanceArcsec } }`,
      {
        r: 'NaN',
      },
    );
    expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('answers a malformed body with 400 and a wrong token with 401, and stays up', async () => {
    const malformed = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    expect(malformed.status).toBe(400);
    const wrong = await api.query(`{ classes { label } }`, undefined, 'fink_nope_nope');
    expect(wrong.status).toBe(401);
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    expect((await api.query(`{ classes { label } }`)).errors).toBeUndefined();
  });
});

describe('authentication and roles', () => {
  const annotate = `mutation($id: String!) {
    addAnnotation(objectId: $id, input: { text: "looks like a SN Ia", tags: ["sn"] }) { id author } }`;

  it.each([
    ['anonymous', null, 'UNAUTHENTICATED'],
    ['a reader', 'reader', 'FORBIDDEN'],
    ['an annotator', 'annotator', null],
    ['an admin', 'admin', null],
  ] as const)('%s adding an annotation -> %s', async (_who, role, code) => {
    const [object] = await rows<{ object_id: string }>(sql`SELECT object_id FROM objects FINAL LIMIT 1`);
    const token = role === null ? undefined : await api.token(`user_${role}`, role);
    const { data, errors } = await api.query(annotate, { id: object!.object_id }, token);
    if (code === null) {
      expect(errors).toBeUndefined();
      expect((data!.addAnnotation as { author: string }).author).toBe(`user_${role}`);
    } else {
      expect(errors?.[0]?.extensions?.code).toBe(code);
    }
  });

  it('reads anonymously only while server.anonymousRead allows it', async () => {
    const closed = await createApiSandbox('gqlclosed', {
      withAlerts: false,
      server: { anonymousRead: false },
    });
    try {
      const anonymous = await closed.query(`{ classes { label } }`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const reader = await closed.query(
        `{ classes { label } }`,
        undefined,
        await closed.token('ann', 'reader'),
      );
      expect(reader.errors).toBeUndefined();
    } finally {
      await closed.stop();
    }
  });
});

describe('DataLoaders', () => {
  it('read 50 objects with their light curves, alerts, classifications, cross-matches and annotations in one query per kind', async () => {
    let queries = 0;
    const client = api.pipeline.db.client;
    const counting = new Proxy(client, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'query' && typeof value === 'function') {
          return (...args: unknown[]) => {
            queries++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const stores = createClickHouseStores(counting, createConfiguredDecoder(api.config));
    const server = await startServer({
      config: { ...api.config.server, port: 0 },
      distributionPrefix: 'fink',
      schema: await buildFinkSchema(),
      stores,
      services: {
        followups: { publish: () => Promise.resolve() },
        webhooks: { dispatch: () => Promise.resolve([]), idle: () => Promise.resolve() },
      },
      authenticate: () => Promise.resolve(null),
      events: { publish: () => Promise.resolve() },
      live: null,
      routes: [],
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const ids = await rows<{ object_id: string }>(
        sql`SELECT object_id FROM objects FINAL ORDER BY object_id LIMIT 50`,
      );
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `query($ids: [String!]!) { objects(objectIds: $ids) {
            objectId lightCurve { jd } alerts { alertId object { objectId } }
            classificationHistory { label } crossmatches { catalog } annotations { id } } }`,
          variables: { ids: ids.map((r) => r.object_id) },
        }),
      });
      const body = (await response.json()) as { data: { objects: unknown[] }; errors?: unknown };
      expect(body.errors).toBeUndefined();
      expect(body.data.objects).toHaveLength(50);
      // objects, light curves, alerts, classifications, cross-matches, annotations: 6 reads for 50 objects,
      // where resolving per parent would make 1 + 50 x 5 (and 50 x ~2 more for alerts' objects).
      expect(queries).toBe(6);
    } finally {
      await server.close();
    }
  });
});

describe('fuzzed arguments', () => {
  const junk = fc.oneof(
    fc.string(),
    fc.constantFrom("' OR 1=1 --", '\\', '\u0000', 'NaN', '-1', '1e400', '18446744073709551616', '%%%', ''),
    fc.double(),
    fc.integer(),
    fc.constant(null),
  );

  it('bad values in every argument give client errors only, and the server stays up', async () => {
    const operations = [
      ['query($v: String!) { alert(alertId: $v) { alertId } }', 'String'],
      ['query($v: String!) { object(objectId: $v) { objectId } }', 'String'],
      ['query($v: Float!) { coneSearch(ra: $v, dec: 0, radiusArcsec: 5) { distanceArcsec } }', 'Float'],
      ['query($v: Float!) { coneSearch(ra: 0, dec: $v, radiusArcsec: 5) { distanceArcsec } }', 'Float'],
      ['query($v: Float!) { coneSearch(ra: 0, dec: 0, radiusArcsec: $v) { distanceArcsec } }', 'Float'],
      ['query($v: String!) { latestObjects(label: $v) { objectId } }', 'String'],
      ['query($v: Int) { latestObjects(label: "x", first: $v) { objectId } }', 'Int'],
      ['query($v: String!) { nightStats(fromNight: $v, toNight: "2030-01-01") { night } }', 'String'],
      ['query($v: String!) { solarSystemObjects(name: $v) { objectId } }', 'String'],
      ['query($v: String) { search(filter: {}, after: $v) { endCursor } }', 'String'],
      ['query($v: Float) { search(filter: { mag: { min: $v } }) { endCursor } }', 'Float'],
      ['query($v: [String!]) { search(filter: { band: $v }) { endCursor } }', 'List'],
    ] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations), junk, async ([query, kind], value) => {
        const v = kind === 'List' ? [value] : value;
        const { status, errors } = await api.query(query, { v });
        expect(status).toBeLessThan(500);
        for (const error of errors ?? []) {
          expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'NOT_FOUND']).toContain(
            error.extensions?.code,
          );
        }
      }),
      { numRuns: 300, seed: 20261124 },
    );
    expect((await api.query('{ classes { label } }')).errors).toBeUndefined();
  });

  it('refuses an operation over the cost limit, and a document of too many tokens', async () => {
    const pages = Array.from(
      { length: 200 },
      (_, i) => `a${i}: search(filter: {}, first: 500) { endCursor }`,
    );
    const { status, errors } = await api.query(`{ ${pages.join(' ')} }`);
    expect(status).toBe(400);
    expect(errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(errors?.[0]?.message).toContain('server.maxCost');
    const fields = Array.from({ length: 2600 }, (_, i) => `a${i}: classes { label }`).join(' ');
    const long = await api.query(`{ ${fields} }`);
    expect(long.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(long.errors?.[0]?.message).toContain('5000 tokens');
  });
});
