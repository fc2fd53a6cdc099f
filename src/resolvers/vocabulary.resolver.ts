// The class vocabularies clients can discover: the classes an alert's label may hold (what `search`,
// `latestObjects` and `liveAlerts` accept) and the labels a vote may carry.
import { Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import { VOTE_LABELS, vocabularySources } from '../pipeline/classifiers/vocabulary.ts';
import type { ServerContext } from './context.ts';
import { validClasses } from './classes.ts';
import { listCost } from './cost.ts';

@ObjectType({ description: 'A label a vote may carry, and the vocabularies it comes from.' })
export class VoteLabel {
  @Field(() => String)
  label!: string;

  @Field(() => [String], {
    description:
      "FINK (the broker's labels), SIMBAD (object types), TNS (classification types): one or more.",
  })
  sources!: string[];
}

@Resolver()
export class VocabularyResolver {
  @Query(() => [String], {
    description:
      "Every class an alert's label may hold: Fink's labels, then the types of the loaded overriding catalogs " +
      "(a match in one replaces the label). `search`'s `label`, `latestObjects` and `liveAlerts` refuse others.",
    complexity: listCost(100),
  })
  async alertClasses(@Ctx() ctx: ServerContext): Promise<string[]> {
    return validClasses(ctx.stores);
  }

  @Query(() => [VoteLabel], {
    description:
      "The controlled vocabulary of castVote's `label`: Fink's labels, SIMBAD object types, TNS types. Votes " +
      'cast with other labels before it existed stay readable.',
    complexity: listCost(VOTE_LABELS.length),
  })
  voteLabels(): VoteLabel[] {
    return VOTE_LABELS.map((label) => ({ label, sources: vocabularySources(label) }));
  }
}
