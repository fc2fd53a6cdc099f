// One alert: the triggering detection, its enrichment, and links to its cutouts.
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import { JD_SCALE, MAGNITUDE_SYSTEM, POSITION } from './units.ts';

@ObjectType({ description: 'URLs of one cutout: FITS as stored, and a PNG rendering (zscale).' })
export class CutoutLink {
  @Field(() => String)
  fits!: string;

  @Field(() => String)
  png!: string;
}

@ObjectType({ description: 'The three cutouts of an alert.' })
export class CutoutLinks {
  @Field(() => CutoutLink)
  science!: CutoutLink;

  @Field(() => CutoutLink)
  template!: CutoutLink;

  @Field(() => CutoutLink)
  difference!: CutoutLink;
}

@ObjectType({
  description: 'An alert (ZTF candid, Rubin diaSourceId) that passed the quality cuts, enriched.',
})
export class Alert {
  @Field(() => String, { description: 'ZTF candid or Rubin diaSourceId (64-bit, as decimal text).' })
  alertId!: string;

  @Field(() => String, { description: 'ztf or lsst (Rubin).' })
  survey!: string;

  @Field(() => String)
  objectId!: string;

  @Field(() => Float, { description: `When the detection was made. ${JD_SCALE}` })
  jd!: number;

  @Field(() => String, { description: 'Observing night (YYYY-MM-DD, UTC date at its start).' })
  night!: string;

  @Field(() => Float, { description: `Right ascension, ${POSITION}` })
  ra!: number;

  @Field(() => Float, { description: `Declination, ${POSITION}` })
  dec!: number;

  @Field(() => String, { description: 'Filter: g, r, i (ZTF); u, g, r, i, z, y (Rubin).' })
  band!: string;

  @Field(() => Float, {
    nullable: true,
    description: `Magnitude of the detection; null for a Rubin detection of negative flux. ${MAGNITUDE_SYSTEM}`,
  })
  mag!: number | null;

  @Field(() => Float, { nullable: true, description: '1-sigma error of mag, magnitudes.' })
  magErr!: number | null;

  @Field(() => Int, { description: 'Fink solar-system flag (roid_catcher): 0 none ... 3 known MPC object.' })
  roid!: number;

  @Field(() => String, { nullable: true, description: 'Matched solar-system object name.' })
  ssName!: string | null;

  @Field(() => String, {
    description:
      "Fink classification label, or the type of an overriding catalog's match (see alertClasses).",
  })
  label!: string;

  @Field(() => Int, {
    description: 'Detections in the light curve this alert carries (negative ones included).',
  })
  ndet!: number;

  @Field(() => Int, { description: 'Upper limits (ZTF) or forced points (Rubin) in it.' })
  nlim!: number;

  @Field(() => Float, { description: `First detection in it. ${JD_SCALE}` })
  firstJd!: number;

  @Field(() => Float, { description: `Latest detection in it. ${JD_SCALE}` })
  lastJd!: number;

  @Field(() => Float, { nullable: true, description: 'Brightest detection magnitude, any band (AB).' })
  peakMag!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'g - r, magnitudes (AB), at the latest epoch with both.',
  })
  colorGr!: number | null;

  @Field(() => Float, { nullable: true, description: 'Magnitudes per day; negative: brightening.' })
  rate!: number | null;

  @Field(() => Boolean, { nullable: true, description: 'True rising, false fading, null unknown.' })
  rising!: boolean | null;

  @Field(() => GraphQLJSONObject, { description: 'Light-curve features computed from the alert history.' })
  features!: Record<string, unknown>;

  @Field(() => GraphQLJSONObject, {
    description: "The survey's own detection record, every field (64-bit ids as strings).",
  })
  candidate!: Record<string, unknown>;

  @Field(() => CutoutLinks)
  cutouts!: CutoutLinks;
}
