// Webhooks as admins see them. The secret is write-only: never returned.
import { Field, ObjectType } from 'type-graphql';
import type { Webhook as WebhookRecord } from '../storage/webhook-store.ts';

@ObjectType({ description: 'An endpoint follow-up requests are POSTed to, signed with its secret.' })
export class Webhook {
  @Field(() => String)
  id!: string;

  @Field(() => String)
  url!: string;

  @Field(() => [String], { description: 'Facilities whose requests are posted; empty: every facility.' })
  facilities!: string[];

  @Field(() => String, { description: 'Admin who registered it.' })
  owner!: string;

  @Field(() => String, { description: 'ISO 8601, UTC.' })
  createdAt!: string;
}

export function toWebhook(record: WebhookRecord): Webhook {
  return {
    id: record.id,
    url: record.url,
    facilities: record.facilities,
    owner: record.owner,
    createdAt: record.createdAt.toISOString(),
  };
}
