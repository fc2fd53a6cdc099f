// Follow-up requests as clients see them: which facility should observe an object, how urgently, and why.
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import {
  FOLLOWUP_PRIORITIES,
  type FollowupPriority,
  type FollowupRequest,
} from '../storage/followup-store.ts';

/** The enum object type-graphql needs, built from the store's list so that the two never disagree. */
export const FollowupPriorityEnum = Object.fromEntries(FOLLOWUP_PRIORITIES.map((p) => [p, p])) as {
  [P in FollowupPriority]: P;
};

registerEnumType(FollowupPriorityEnum, {
  name: 'FollowupPriority',
  description: 'How soon the requester needs the observation.',
});

@ObjectType('FollowupRequest', { description: 'A request that a facility observe an object.' })
export class FollowupRequestType {
  @Field(() => String)
  requestId!: string;

  @Field(() => String)
  objectId!: string;

  @Field(() => String, { description: 'The facility asked to observe (telescope or network name).' })
  facility!: string;

  @Field(() => FollowupPriorityEnum)
  priority!: FollowupPriority;

  @Field(() => String)
  note!: string;

  @Field(() => String, { description: 'Who asked.' })
  user!: string;

  @Field(() => String, { description: 'ISO 8601, UTC.' })
  createdAt!: string;
}

export function toFollowupRequest(request: FollowupRequest): FollowupRequestType {
  return { ...request, createdAt: request.createdAt.toISOString() };
}
