// Operations preloaded in GraphiQL: one per kind of question the API answers. Ids and positions are those of the
// demo's alerts (the real ZTF alerts of datasim/ztf that `fink demo` replays), so that each first Run answers data:
// ZTF18acvqmmq (two alerts of 2023-10, RA 83.4393°, Dec 8.5395°) and the asteroid 58270 of an alert of the same
// night. test/browser/graphiql.test.ts runs every tab once in a fresh profile.
import type { GraphiqlExample } from './graphiql.ts';

export const GRAPHIQL_EXAMPLES: readonly GraphiqlExample[] = [
  {
    name: 'Object with light curve',
    query: `# An object: latest state, light curve per band, classification history, cross-matches, cutouts.
query Object($id: String!) {
  object(objectId: $id) {
    objectId label ra dec ndet firstJd lastJd ssName
    lightCurveByBand { band detections { jd mag magErr } upperLimits { jd limitMag } }
    classificationHistory { alertId jd label version scores { classifier version label score } }
    crossmatches { catalog sourceId distanceArcsec type }
    cutouts { science { png fits } template { png } difference { png } }
  }
}`,
    variables: '{ "id": "ZTF18acvqmmq" }',
  },
  {
    name: 'Cone search',
    query: `# Objects within 10 arcsec of a position, nearest first (here ZTF18acvqmmq).
query Cone {
  coneSearch(ra: 83.43927, dec: 8.53957, radiusArcsec: 10) {
    distanceArcsec
    object { objectId label mag lastJd }
  }
}`,
  },
  {
    name: 'Classes and nights',
    query: `query Statistics {
  classes { label alerts objects }
  nightStats(fromNight: "2019-01-01", toNight: "2030-12-31") { night alerts objects byClass { label alerts } }
}`,
  },
  {
    name: 'Sky map',
    query: `# Alerts per HEALPix cell (NESTED, order 3: cells of 7.3 degrees) of one night, with the cells' centres.
query SkyMap {
  skyMap(order: 3, night: "2023-10-18") { order alerts cells { pixel ra dec alerts } }
}`,
  },
  {
    name: 'Solar-system object',
    query: `# Objects whose alerts were matched to an asteroid (MPC number or packed designation, as ssnamenr).
query SolarSystem {
  solarSystemObjects(name: "58270") { objectId ssName roid ra dec lastJd mag band }
}`,
  },
  {
    name: 'Live alerts (subscription)',
    query: `# Runs until stopped: alerts brighter than 19 in g or r, as raw2science publishes them.
subscription Live {
  liveAlerts(filter: { band: ["g", "r"], mag: { max: 19 } }) {
    receivedAt
    alert { alertId objectId jd band mag label cutouts { science { png } } }
  }
}`,
  },
];
