// Webhooks for follow-up requests: register, delete and list, for admins only (a webhook receives every request
// of its facilities, user notes included).
import { randomUUID } from 'node:crypto';
import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Logger } from '../logger.ts';
import { badInput, notFound } from './errors.ts';
import type { Viewer } from './viewer.ts';
import type { WebhookStore } from '../storage/webhook-store.ts';
import { facilitiesArg, RegisterWebhookArgs, webhookSecretArg, webhookUrlArg } from './webhook.input.ts';
import { toWebhook, Webhook } from './webhook.type.ts';
import { listCost, OWNED_ITEMS } from './cost.ts';

/** The part of ServerContext the webhook resolvers use (ServerContext satisfies it once stores hold webhooks). */
export interface WebhookContext {
  viewer: Viewer | null;
  stores: { webhooks: WebhookStore };
  logger: Logger;
}

@Resolver(() => Webhook)
export class WebhookResolver {
  @Authorized('admin')
  @Query(() => [Webhook], {
    description: 'Active webhooks, oldest first.',
    complexity: listCost(OWNED_ITEMS),
  })
  async webhooks(@Ctx() ctx: WebhookContext): Promise<Webhook[]> {
    return (await ctx.stores.webhooks.active()).map(toWebhook);
  }

  @Authorized('admin')
  @Mutation(() => Webhook, { description: 'Registers an endpoint for follow-up requests.' })
  async registerWebhook(
    @Args(() => RegisterWebhookArgs) args: RegisterWebhookArgs,
    @Ctx() ctx: WebhookContext,
  ): Promise<Webhook> {
    const viewer = requireViewer(ctx);
    const record = {
      id: randomUUID(),
      owner: viewer.user,
      url: webhookUrlArg(args.url, 'url'),
      secret: webhookSecretArg(args.secret, 'secret'),
      facilities: facilitiesArg(args.facilities, 'facilities'),
      active: true,
      createdAt: new Date(Math.floor(Date.now() / 1000) * 1000),
      version: Date.now(),
    };
    await ctx.stores.webhooks.save([record]);
    ctx.logger.info({ webhookId: record.id, origin: new URL(record.url).origin }, 'webhook registered');
    return toWebhook(record);
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: 'Stops posting to a webhook.' })
  async deleteWebhook(@Arg('id', () => String) id: string, @Ctx() ctx: WebhookContext): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw badInput('id', 'is not a webhook id');
    const [current] = await ctx.stores.webhooks.byIds([id]);
    if (current === undefined) throw notFound(`webhook ${id}`);
    await ctx.stores.webhooks.save([
      { ...current, active: false, version: Math.max(Date.now(), current.version + 1) },
    ]);
    ctx.logger.info({ webhookId: id }, 'webhook deleted');
    return true;
  }
}

function requireViewer(ctx: WebhookContext): Viewer {
  if (ctx.viewer === null) throw new Error('an @Authorized resolver ran without a viewer');
  return ctx.viewer;
}
