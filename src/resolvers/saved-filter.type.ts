// A saved filter as clients see it: its definition as JSON (the AlertFilter it was saved with, normalised, so it
// can be sent back as a variable) and, when distributed, the Kafka topics it publishes to.
import { Field, ObjectType } from 'type-graphql';
import { SURVEYS } from '../pipeline/alert.ts';
import { distributionTopic } from '../pipeline/filters/builtin.ts';
import type { SavedFilter as SavedFilterRecord } from '../storage/saved-filter-store.ts';

@ObjectType({
  description: 'A named alert filter, owned by a user; distributed ones also feed Kafka topics.',
})
export class SavedFilter {
  @Field(() => String)
  id!: string;

  @Field(() => String, { description: 'The user who saved it.' })
  owner!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The AlertFilter as JSON text (null keys left out).' })
  definition!: string;

  @Field(() => Boolean, { description: 'Run by the distribution service, to `topics`.' })
  distribute!: boolean;

  @Field(() => [String], {
    description: 'Topics of a distributed filter, one per survey (fink-client reads them); empty otherwise.',
  })
  topics!: string[];

  @Field(() => String, { description: 'ISO 8601.' })
  createdAt!: string;

  @Field(() => String, { description: 'ISO 8601.' })
  updatedAt!: string;
}

export function toSavedFilter(record: SavedFilterRecord, topicPrefix: string): SavedFilter {
  return {
    id: record.id,
    owner: record.owner,
    name: record.name,
    definition: JSON.stringify(record.definition),
    distribute: record.distribute,
    topics: record.distribute
      ? SURVEYS.map((survey) => distributionTopic(topicPrefix, record.name, survey))
      : [],
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}
