// Community classification votes and their consensus, as clients see them.
// type-graphql reads decorator metadata through Reflect: loaded before any decorated class is defined.
import 'reflect-metadata';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { VoteRecord } from '../storage/vote-store.ts';
import type { ConsensusResult } from './vote.consensus.ts';
import { LABELS, listCost } from './cost.ts';

@ObjectType({ description: "A user's current classification vote on an object (a new vote replaces it)." })
export class Vote {
  @Field(() => String)
  objectId!: string;

  @Field(() => String)
  user!: string;

  @Field(() => String)
  label!: string;

  @Field(() => Float, { description: '0 to 1.' })
  confidence!: number;

  @Field(() => String, { nullable: true })
  comment!: string | null;

  @Field(() => String, { description: 'When the vote was cast (ISO 8601, UTC).' })
  createdAt!: string;
}

@ObjectType({ description: 'Votes for one label.' })
export class LabelTally {
  @Field(() => String)
  label!: string;

  @Field(() => Int)
  voters!: number;

  @Field(() => Float, { description: 'Summed confidence of these votes.' })
  confidence!: number;

  @Field(() => Float, { description: 'Share of the total confidence, 0 to 1.' })
  share!: number;
}

@ObjectType({ description: 'The community classification: the label with the highest summed confidence.' })
export class Consensus {
  @Field(() => String)
  objectId!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Winning label; null without votes (or when every vote has confidence 0).',
  })
  label!: string | null;

  @Field(() => Float, { description: "The winning label's share of the total confidence, 0 to 1." })
  share!: number;

  @Field(() => Int)
  voters!: number;

  @Field(() => Float)
  totalConfidence!: number;

  @Field(() => [LabelTally], {
    description: 'Every voted label, strongest first.',
    complexity: listCost(LABELS),
  })
  breakdown!: LabelTally[];
}

export function toVote(record: VoteRecord): Vote {
  return { ...record, createdAt: record.createdAt.toISOString() };
}

export function toConsensus(objectId: string, result: ConsensusResult): Consensus {
  return { objectId, ...result };
}
