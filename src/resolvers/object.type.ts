// An astronomical object (ZTF objectId, Rubin diaObjectId): its latest state, and through field resolvers its
// light curve, alerts, classifications, cross-matches, annotations, votes and watchlists.
import { Field, Float, Int, ObjectType } from 'type-graphql';
import { JD_SCALE, MAGNITUDE_SYSTEM, POSITION } from './units.ts';

@ObjectType({ description: 'An object: every alert of one ZTF objectId or Rubin diaObjectId.' })
export class AstroObject {
  @Field(() => String, { description: 'ZTF objectId or Rubin diaObjectId (decimal text).' })
  objectId!: string;

  @Field(() => String, { description: 'ztf or lsst.' })
  survey!: string;

  @Field(() => Float, { description: `Right ascension of the latest alert, ${POSITION}` })
  ra!: number;

  @Field(() => Float, { description: `Declination of the latest alert, ${POSITION}` })
  dec!: number;

  @Field(() => Float, { description: `First detection. ${JD_SCALE}` })
  firstJd!: number;

  @Field(() => Float, { description: `Latest detection. ${JD_SCALE}` })
  lastJd!: number;

  @Field(() => String, { description: 'Band of the latest alert.' })
  band!: string;

  @Field(() => Float, { nullable: true, description: `Magnitude of the latest alert. ${MAGNITUDE_SYSTEM}` })
  mag!: number | null;

  @Field(() => Int, { description: 'Solar-system flag of the latest alert (Fink roid: 0 to 3).' })
  roid!: number;

  @Field(() => String, { nullable: true, description: 'Solar-system object name (MPC), when known.' })
  ssName!: string | null;

  @Field(() => String, { description: 'Fink label of the latest alert.' })
  label!: string;

  @Field(() => Int, { description: 'Detections in the history of the latest alert.' })
  ndet!: number;

  @Field(() => Int, {
    description: 'Upper limits (ZTF) or forced points (Rubin) in the history of the latest alert.',
  })
  nlim!: number;

  @Field(() => Float, { nullable: true, description: 'Brightest detection magnitude (any band, AB).' })
  peakMag!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'g - r, magnitudes (AB), at the latest epoch with both bands.',
  })
  colorGr!: number | null;

  @Field(() => Float, { nullable: true, description: 'Latest rate, mag/day (negative: brightening).' })
  rate!: number | null;

  @Field(() => Boolean, { nullable: true, description: 'True rising, false fading, null unknown.' })
  rising!: boolean | null;

  @Field(() => String, { description: 'Alert id (candid / diaSourceId) of the latest alert.' })
  lastAlertId!: string;
}
