// What an object carries besides its latest state: light-curve points, classification history, cross-matches.
import { Field, Float, ObjectType } from 'type-graphql';
import { BANDS_PER_OBJECT, LIGHT_CURVE_POINTS, listCost, SCORES_PER_CLASSIFICATION } from './cost.ts';
import { FLUX_UNIT, JD_SCALE, MAGNITUDE_SYSTEM, UPPER_LIMIT } from './units.ts';

@ObjectType({
  description: `A light-curve point: detection, upper limit (ZTF) or forced photometry (Rubin). ${UPPER_LIMIT}`,
})
export class LightCurvePointType {
  @Field(() => Float, { description: JD_SCALE })
  jd!: number;

  @Field(() => String, { description: 'Filter: g, r, i (ZTF); u, g, r, i, z, y (Rubin).' })
  band!: string;

  @Field(() => String, { description: 'detection, upper-limit or forced.' })
  kind!: string;

  @Field(() => Float, {
    nullable: true,
    description:
      'Difference magnitude: of |difference flux| for negative detections (ZTF magpsf). Null for upper limits ' +
      `and for Rubin points of non-positive flux. ${MAGNITUDE_SYSTEM}`,
  })
  mag!: number | null;

  @Field(() => Float, { nullable: true, description: '1-sigma error of mag, magnitudes.' })
  magErr!: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      "Apparent (DC) magnitude of a ZTF detection as Fink's dc_mag computes it: reference flux plus (minus, for a " +
      'negative detection) the difference flux. Null without a reference source or a positive sum, and for Rubin.',
  })
  dcMag!: number | null;

  @Field(() => Float, { nullable: true, description: 'Error of dcMag.' })
  dcMagErr!: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'Limiting magnitude (AB) of the epoch: ZTF diffmaglim, the 5-sigma limit of the difference image; the ' +
      'source was fainter than this at an upper limit. Null for Rubin.',
  })
  limitMag!: number | null;

  @Field(() => Float, { nullable: true, description: FLUX_UNIT })
  flux!: number | null;

  @Field(() => Float, { nullable: true, description: '1-sigma error of flux, nJy (Rubin).' })
  fluxErr!: number | null;

  @Field(() => Boolean, {
    description: 'Negative difference (fainter than the template): still a detection, counted in ndet.',
  })
  negative!: boolean;

  @Field(() => String, { nullable: true, description: 'Id of the detection (candid / diaSourceId).' })
  sourceId!: string | null;
}

@ObjectType({ description: 'The points of one band.' })
export class BandLightCurve {
  @Field(() => String)
  band!: string;

  @Field(() => [LightCurvePointType], { complexity: listCost(LIGHT_CURVE_POINTS / BANDS_PER_OBJECT) })
  detections!: LightCurvePointType[];

  @Field(() => [LightCurvePointType], {
    description: 'Upper limits and forced points.',
    complexity: listCost(LIGHT_CURVE_POINTS / BANDS_PER_OBJECT),
  })
  upperLimits!: LightCurvePointType[];
}

@ObjectType({ description: 'One classifier output for one alert, with provenance.' })
export class ClassifierScore {
  @Field(() => String, { description: "Classifier name ('fink' is the final label)." })
  classifier!: string;

  @Field(() => String)
  version!: string;

  @Field(() => String)
  label!: string;

  @Field(() => Float, {
    nullable: true,
    description:
      'Null when the classifier did not apply, failed, or its model is not installed. Probabilities in [0, 1], ' +
      "except anomaly_score (Fink's isolation-forest score: lower is more anomalous).",
  })
  score!: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The model's file in the fink-science wheel (e.g. snn_models/snn_snia_vs_nonia/model.pt); null when no " +
      'trained model made the score (a heuristic plugin, the final label).',
  })
  modelFile!: string | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the model file as shipped in the wheel.' })
  modelSha256!: string | null;

  @Field(() => String, { nullable: true, description: 'The fink-science release the model comes from.' })
  finkScienceVersion!: string | null;
}

@ObjectType({ description: 'The classification of one alert: the final label and every score.' })
export class Classification {
  @Field(() => String)
  alertId!: string;

  @Field(() => Float, { description: `The alert's. ${JD_SCALE}` })
  jd!: number;

  @Field(() => String)
  label!: string;

  @Field(() => String, { description: 'Version of the broker that computed it.' })
  version!: string;

  @Field(() => String, { description: 'When it was computed (UTC).' })
  processedAt!: string;

  @Field(() => [ClassifierScore], { complexity: listCost(SCORES_PER_CLASSIFICATION) })
  scores!: ClassifierScore[];
}

@ObjectType({ description: 'The nearest source of a loaded catalog within its radius.' })
export class Crossmatch {
  @Field(() => String)
  alertId!: string;

  @Field(() => Float, { description: `The alert's. ${JD_SCALE}` })
  jd!: number;

  @Field(() => String)
  catalog!: string;

  @Field(() => String)
  sourceId!: string;

  @Field(() => Float, { description: "Angular distance from the alert's position, arcsec." })
  distanceArcsec!: number;

  @Field(() => String, { nullable: true })
  type!: string | null;
}

@ObjectType({ description: 'An object found by a cone search.' })
export class ConeResult {
  @Field(() => Float, { description: 'Distance of its nearest alert to the centre, arcsec.' })
  distanceArcsec!: number;

  objectId!: string;
}
