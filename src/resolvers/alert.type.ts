// One alert: the triggering detection, its enrichment, and links to its cutouts.
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, Int, ObjectType } from 'type-graphql';

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

  @Field(() => String)
  survey!: string;

  @Field(() => String)
  objectId!: string;

  @Field(() => Float, { description: 'Julian date of the detection.' })
  jd!: number;

  @Field(() => String, { description: 'Observing night (YYYY-MM-DD, UTC date at its start).' })
  night!: string;

  @Field(() => Float)
  ra!: number;

  @Field(() => Float)
  dec!: number;

  @Field(() => String)
  band!: string;

  @Field(() => Float, { nullable: true })
  mag!: number | null;

  @Field(() => Float, { nullable: true })
  magErr!: number | null;

  @Field(() => Int, { description: 'Fink solar-system flag (roid_catcher): 0 none ... 3 known MPC object.' })
  roid!: number;

  @Field(() => String, { nullable: true, description: 'Matched solar-system object name.' })
  ssName!: string | null;

  @Field(() => String, { description: 'Fink classification label.' })
  label!: string;

  @Field(() => Int)
  ndet!: number;

  @Field(() => Int)
  nlim!: number;

  @Field(() => Float)
  firstJd!: number;

  @Field(() => Float)
  lastJd!: number;

  @Field(() => Float, { nullable: true })
  peakMag!: number | null;

  @Field(() => Float, { nullable: true })
  colorGr!: number | null;

  @Field(() => Float, { nullable: true, description: 'mag/day; negative: brightening.' })
  rate!: number | null;

  @Field(() => Boolean, { nullable: true })
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
