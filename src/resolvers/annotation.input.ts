// Arguments of addAnnotation / editAnnotation. Shapes only: bounds and citation formats are checked by
// checkAnnotationInput (annotation.validate.ts), which names the offending field.
// type-graphql reads decorator metadata through Reflect: loaded before any decorated class is defined.
import 'reflect-metadata';
import { Field, InputType } from 'type-graphql';
import type { CitationKind } from '../storage/annotation-store.ts';
import { CitationKindEnum } from './annotation.type.ts';

@InputType({ description: 'A reference: its kind and its identifier (checked against the kind).' })
export class CitationInput {
  @Field(() => CitationKindEnum)
  kind!: CitationKind;

  @Field(() => String)
  value!: string;
}

@InputType({ description: "An annotation's content; an edit replaces the whole content with this." })
export class AnnotationInput {
  @Field(() => String, { description: 'Up to 10,000 characters.' })
  text!: string;

  @Field(() => [String], { defaultValue: [], description: 'Up to 20 tags of up to 50 characters.' })
  tags!: string[];

  @Field(() => String, { nullable: true, description: 'A classification label, up to 64 characters.' })
  classification?: string | null;

  @Field(() => [CitationInput], { defaultValue: [], description: 'Up to 50 citations.' })
  citations!: CitationInput[];
}
