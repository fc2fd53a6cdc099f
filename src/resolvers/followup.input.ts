// Arguments of requestFollowup and their checks (BAD_USER_INPUT naming the argument).
import { ArgsType, Field } from 'type-graphql';
import { badInput } from './errors.ts';
import type { FollowupPriority } from '../storage/followup-store.ts';
import { FollowupPriorityEnum } from './followup.type.ts';

export const MAX_FACILITY_LENGTH = 64;
export const MAX_NOTE_LENGTH = 2000;

@ArgsType()
export class RequestFollowupArgs {
  @Field(() => String)
  objectId!: string;

  @Field(() => String, { description: 'Facility name, 1 to 64 characters (webhooks filter on it).' })
  facility!: string;

  @Field(() => FollowupPriorityEnum, { defaultValue: 'NORMAL' })
  priority!: FollowupPriority;

  @Field(() => String, { defaultValue: '', description: 'Up to 2000 characters.' })
  note!: string;
}

/** Trimmed, 1 to 64 letters, digits, spaces or _ . : / + -. */
export function facilityArg(value: string, argument: string): string {
  const facility = value.trim();
  if (!/^[\p{L}\p{N} _.:/+-]{1,64}$/u.test(facility)) {
    throw badInput(argument, `must be 1 to ${MAX_FACILITY_LENGTH} letters, digits, spaces or _ . : / + -`);
  }
  return facility;
}

export function noteArg(value: string, argument: string): string {
  if (value.length > MAX_NOTE_LENGTH)
    throw badInput(argument, `must be at most ${MAX_NOTE_LENGTH} characters`);
  return value;
}
