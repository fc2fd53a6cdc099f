// Arguments of registerWebhook and their checks (BAD_USER_INPUT naming the argument).
import { ArgsType, Field } from 'type-graphql';
import { badInput } from './errors.ts';
import { facilityArg } from './followup.input.ts';

export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 256;
export const MAX_URL_LENGTH = 2048;
export const MAX_FACILITIES = 50;

@ArgsType()
export class RegisterWebhookArgs {
  @Field(() => String, { description: 'http:// or https:// URL the requests are POSTed to.' })
  url!: string;

  @Field(() => String, {
    description: 'Shared secret of 16 to 256 characters: X-Fink-Signature is HMAC-SHA256(secret, body).',
  })
  secret!: string;

  @Field(() => [String], { defaultValue: [], description: 'Facilities to post; empty: every facility.' })
  facilities!: string[];
}

/** An absolute http(s) URL. */
export function webhookUrlArg(value: string, argument: string): string {
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput(argument, 'must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badInput(argument, 'must be an http:// or https:// URL');
  }
  if (text.length > MAX_URL_LENGTH) throw badInput(argument, `must be at most ${MAX_URL_LENGTH} characters`);
  return url.toString();
}

export function webhookSecretArg(value: string, argument: string): string {
  if (value.length < MIN_SECRET_LENGTH || value.length > MAX_SECRET_LENGTH) {
    throw badInput(argument, `must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters`);
  }
  return value;
}

export function facilitiesArg(values: readonly string[], argument: string): string[] {
  if (values.length > MAX_FACILITIES) throw badInput(argument, `at most ${MAX_FACILITIES} facilities`);
  return [...new Set(values.map((value, i) => facilityArg(value, `${argument}[${i}]`)))];
}
