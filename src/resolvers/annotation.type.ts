// Annotations as clients see them: one version of a free-text note on an object, with tags, an optional
// classification and validated citations. `history` (annotation.resolver.ts) lists every version.
// type-graphql reads decorator metadata through Reflect: loaded before any decorated class is defined.
import 'reflect-metadata';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CITATION_KINDS, type AnnotationRecord, type CitationKind } from '../storage/annotation-store.ts';
import { citationUrl } from './annotation.validate.ts';

/** The enum object type-graphql needs, built from the store's list so that the two never disagree. */
export const CitationKindEnum = Object.fromEntries(CITATION_KINDS.map((kind) => [kind, kind])) as {
  [K in CitationKind]: K;
};

registerEnumType(CitationKindEnum, {
  name: 'CitationKind',
  description: 'What a citation refers to.',
  valuesConfig: {
    DOI: { description: 'A DOI, 10.NNNN/suffix (a https://doi.org/ prefix is removed).' },
    ADS: { description: 'An ADS bibcode, 19 characters (2019PASP..131a8002B).' },
    ATEL: { description: "An Astronomer's Telegram number (15000 or ATel #15000)." },
    TNS: { description: 'A Transient Name Server name (2023abc or AT 2023abc).' },
    URL: { description: 'An http(s) URL.' },
  },
});

@ObjectType({ description: 'A reference supporting an annotation.' })
export class Citation {
  @Field(() => CitationKindEnum)
  kind!: CitationKind;

  @Field(() => String, { description: 'Canonical form: DOI without resolver, ATel as its number.' })
  value!: string;

  @Field(() => String, { description: 'Where the reference can be read.' })
  url!: string;
}

@ObjectType({ description: 'One version of an annotation on an object.' })
export class Annotation {
  @Field(() => String, { description: 'Shared by every version of the annotation.' })
  id!: string;

  @Field(() => Int, { description: '1 when written, +1 for each edit or retraction.' })
  version!: number;

  @Field(() => String)
  objectId!: string;

  @Field(() => String, { description: 'User who wrote the annotation.' })
  author!: string;

  @Field(() => String)
  text!: string;

  @Field(() => [String])
  tags!: string[];

  @Field(() => String, { nullable: true, description: "The author's classification of the object." })
  classification!: string | null;

  @Field(() => [Citation])
  citations!: Citation[];

  @Field(() => Boolean, { description: 'Withdrawn by its author or an admin (kept for the record).' })
  retracted!: boolean;

  @Field(() => String, { description: 'When the annotation was first written (ISO 8601, UTC).' })
  createdAt!: string;

  @Field(() => String, { description: 'When this version was written (ISO 8601, UTC).' })
  updatedAt!: string;
}

export function toAnnotation(record: AnnotationRecord): Annotation {
  return {
    id: record.annotationId,
    version: record.version,
    objectId: record.objectId,
    author: record.author,
    text: record.text,
    tags: record.tags,
    classification: record.classification,
    citations: record.citations.map((citation) => ({ ...citation, url: citationUrl(citation) })),
    retracted: record.retracted,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}
