// Arguments of createSavedFilter / updateSavedFilter, and the name rule. Failures are BAD_USER_INPUT naming the
// argument (`name`, `filter.or[2].cone.radiusArcsec`).
import { ArgsType, Field } from 'type-graphql';
import { BUILTIN_FILTERS } from '../pipeline/filters/builtin.ts';
import { badInput } from './errors.ts';
import { AlertFilterInput } from './filter.input.ts';

/** A distributed filter's name is part of its topic names: Kafka-safe, and short enough for any prefix. */
export const DISTRIBUTED_NAME = /^[a-z0-9_]{1,48}$/;
export const MAX_SAVED_FILTER_NAME = 100;

@ArgsType()
export class CreateSavedFilterArgs {
  @Field(() => String, {
    description: `1 to ${MAX_SAVED_FILTER_NAME} characters; a distributed filter: ^[a-z0-9_]{1,48}$, unique.`,
  })
  name!: string;

  @Field(() => AlertFilterInput)
  filter!: AlertFilterInput;

  @Field(() => Boolean, {
    defaultValue: false,
    description: 'Also publish matching alerts to <prefix>_<name>_<survey>.',
  })
  distribute!: boolean;
}

@ArgsType()
export class UpdateSavedFilterArgs {
  @Field(() => String)
  id!: string;

  @Field(() => String, { nullable: true, description: 'Unchanged when absent.' })
  name?: string | null;

  @Field(() => AlertFilterInput, { nullable: true, description: 'Unchanged when absent.' })
  filter?: AlertFilterInput | null;

  @Field(() => Boolean, { nullable: true, description: 'Unchanged when absent.' })
  distribute?: boolean | null;
}

/** The name, checked for what the filter will be (distributed or not); `argument` names it in errors. */
export function savedFilterName(name: string, distribute: boolean, argument: string): string {
  if (distribute) {
    if (!DISTRIBUTED_NAME.test(name)) {
      throw badInput(argument, 'a distributed filter is named with 1 to 48 of a-z, 0-9 and _');
    }
    // Its topics would be those of a built-in filter.
    if (BUILTIN_FILTERS.some((builtin) => builtin.name === name)) {
      throw badInput(argument, `'${name}' is the name of a built-in filter`);
    }
    return name;
  }
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_SAVED_FILTER_NAME || !trimmed.isWellFormed()) {
    throw badInput(argument, `must be 1 to ${MAX_SAVED_FILTER_NAME} characters`);
  }
  return trimmed;
}
