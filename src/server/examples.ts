// Operations preloaded in GraphiQL: one per kind of question the API answers.
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
    variables: '{ "id": "ZTF21aaxtctv" }',
  },
  {
    name: 'Cone search',
    query: `query Cone {
  coneSearch(ra: 193.822, dec: 2.897, radiusArcsec: 10) {
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
