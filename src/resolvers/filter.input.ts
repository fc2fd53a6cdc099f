// The GraphQL form of the filter language (src/storage/alert-filter.ts): `AlertFilter` and its parts. These classes
// only carry what the client sent; src/filters/validate.ts checks it (finite numbers, ranges, known bands,
// depth and size bounds) and turns it into the AlertFilterSpec the compilers read.
import { Field, Float, InputType, Int, registerEnumType } from 'type-graphql';
import { ComparisonOp, FilterField } from '../storage/alert-filter.ts';
import { JD_SCALE, MAGNITUDE_SYSTEM } from './units.ts';

registerEnumType(FilterField, {
  name: 'FilterField',
  description: 'Alert fields a comparison may read (the `alerts` columns of the same names).',
  valuesConfig: {
    JD: { description: `Julian date of the alert. ${JD_SCALE}` },
    RA: { description: 'Degrees (ICRS).' },
    DEC: { description: 'Degrees (ICRS).' },
    MAG: { description: 'Magnitude (AB) of the triggering detection; null when its flux is not positive.' },
    MAG_ERR: { description: 'Its error; null when unknown.' },
    NDET: { description: "Detections in the alert's history." },
    NLIM: { description: "Upper limits in the alert's history." },
    FIRST_JD: { description: 'Julian date of the first detection (0 when none).' },
    LAST_JD: { description: 'Julian date of the latest detection (0 when none).' },
    PEAK_MAG: { description: 'Brightest detected magnitude (AB), any band; null without detections.' },
    COLOR_GR: { description: 'g - r at the latest epoch with both bands; null without one.' },
    RATE: { description: 'Latest rate, mag/day (negative: brightening); null when unknown.' },
    ROID: { description: 'Fink solar-system flag, 0 to 3.' },
  },
});

registerEnumType(ComparisonOp, {
  name: 'ComparisonOp',
  description: 'EQ =, NE !=, LT <, LTE <=, GT >, GTE >=. A comparison with a null field is never true.',
});

@InputType('FieldComparison', { description: '`field op value`, e.g. { field: MAG, op: LT, value: 18 }.' })
export class FieldComparisonInput {
  @Field(() => FilterField)
  field!: FilterField;

  @Field(() => ComparisonOp)
  op!: ComparisonOp;

  @Field(() => Float)
  value!: number;
}

@InputType('ConeFilter', { description: 'Alerts within radiusArcsec of (ra, dec), great-circle distance.' })
export class ConeFilterInput {
  @Field(() => Float, { description: 'Degrees (ICRS), [0, 360).' })
  ra!: number;

  @Field(() => Float, { description: 'Degrees (ICRS), [-90, 90].' })
  dec!: number;

  @Field(() => Float, { description: 'Above 0 and at most the server maximum (server.maxConeRadiusArcsec).' })
  radiusArcsec!: number;
}

@InputType('FilterRange', { description: 'Inclusive bounds; at least one of min and max.' })
export class FilterRangeInput {
  @Field(() => Float, { nullable: true })
  min?: number | null;

  @Field(() => Float, { nullable: true })
  max?: number | null;
}

@InputType('CrossmatchFilter', {
  description: 'Alerts with a catalog counterpart: of this catalog and/or of this type (absent: any).',
})
export class CrossmatchFilterInput {
  @Field(() => String, { nullable: true, description: "Catalog name as loaded: 'gcvs', 'simbad', ..." })
  catalog?: string | null;

  @Field(() => String, { nullable: true, description: "The catalog's class of the counterpart." })
  type?: string | null;
}

@InputType('AlertFilter', {
  description:
    'A filter on alerts. The keys of one filter are AND-ed; an empty filter matches every alert. A condition ' +
    'on an unknown value (null magnitude, rate, colour, rising) is unknown, as in SQL: never selected, not even ' +
    'under `not`. At most 8 levels deep and 200 filters in all.',
})
export class AlertFilterInput {
  @Field(() => [AlertFilterInput], { nullable: true, description: 'All of these.' })
  and?: AlertFilterInput[] | null;

  @Field(() => [AlertFilterInput], { nullable: true, description: 'Any of these.' })
  or?: AlertFilterInput[] | null;

  @Field(() => AlertFilterInput, { nullable: true, description: 'Not this.' })
  not?: AlertFilterInput | null;

  @Field(() => [FieldComparisonInput], { nullable: true, description: 'All of these comparisons.' })
  compare?: FieldComparisonInput[] | null;

  @Field(() => ConeFilterInput, { nullable: true })
  cone?: ConeFilterInput | null;

  @Field(() => [String], { nullable: true, description: 'Band in: u, g, r, i, z, y.' })
  band?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Survey in: ztf, lsst.' })
  survey?: string[] | null;

  @Field(() => FilterRangeInput, {
    nullable: true,
    description: `Magnitude of the triggering detection. ${MAGNITUDE_SYSTEM}`,
  })
  mag?: FilterRangeInput | null;

  @Field(() => FilterRangeInput, { nullable: true, description: 'Latest rate, mag/day.' })
  rate?: FilterRangeInput | null;

  @Field(() => [String], {
    nullable: true,
    description:
      "Class in: 'SN candidate', 'Unknown', ... (see alertClasses; another class is BAD_USER_INPUT listing them).",
  })
  label?: string[] | null;

  @Field(() => [Int], { nullable: true, description: 'Solar-system flag in (0 to 3).' })
  roid?: number[] | null;

  @Field(() => CrossmatchFilterInput, { nullable: true })
  crossmatch?: CrossmatchFilterInput | null;

  @Field(() => FilterRangeInput, {
    nullable: true,
    description: 'Days since the first detection (jd - firstJd).',
  })
  sinceFirstDetectionDays?: FilterRangeInput | null;

  @Field(() => String, { nullable: true, description: 'The alert hit this watchlist (its id).' })
  watchlist?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Latest detection brighter than the previous one.' })
  rising?: boolean | null;
}
