// requestFollowup: stores the request, publishes it on the follow-up topic (facilities' consumers) and as a
// FollowupEvent (subscriptions), then POSTs it to every matching active webhook in the background: the mutation
// answers once Kafka has the request, never waiting for a slow or failing webhook (the dispatcher retries and
// logs each delivery).
import { randomUUID } from 'node:crypto';
import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Logger } from '../logger.ts';
import type { EventPublisher } from '../events.ts';
import { toFollowupEvent, type FollowupPublisher } from './services.ts';
import type { Viewer } from './viewer.ts';
import type { WebhookDispatcher } from './services.ts';
import type { FollowupRequest, FollowupStore } from '../storage/followup-store.ts';
import { webhookAccepts, type WebhookStore } from '../storage/webhook-store.ts';
import { objectIdArg } from './arguments.ts';
import { assertObjectExists, type ObjectLookup } from './object-exists.ts';
import { facilityArg, noteArg, RequestFollowupArgs } from './followup.input.ts';
import { FollowupRequestType, toFollowupRequest } from './followup.type.ts';
import { listCost, OWNED_ITEMS } from './cost.ts';

/**
 * The part of ServerContext (src/resolvers/context.ts) the follow-up and webhook resolvers use: ServerContext
 * satisfies it once its stores hold `followups` and `webhooks`, and it carries `followups` (a FollowupPublisher
 * over the server's producer) and `webhooks` (one WebhookDispatcher per server).
 */
export interface FollowupContext {
  viewer: Viewer | null;
  stores: { followups: FollowupStore; webhooks: WebhookStore };
  followups: FollowupPublisher;
  webhooks: WebhookDispatcher;
  events: EventPublisher;
  logger: Logger;
  /** The request's object loader: a request about an object the archive does not hold is NOT_FOUND. */
  loaders: { object: ObjectLookup };
}

@Resolver(() => FollowupRequestType)
export class FollowupResolver {
  @Authorized('annotator')
  @Mutation(() => FollowupRequestType, {
    description:
      'Asks a facility to observe an object: published to Kafka and posted to the matching webhooks. NOT_FOUND ' +
      'when the archive has no such object.',
  })
  async requestFollowup(
    @Args(() => RequestFollowupArgs) args: RequestFollowupArgs,
    @Ctx() ctx: FollowupContext,
  ): Promise<FollowupRequestType> {
    const viewer = requireViewer(ctx);
    const objectId = objectIdArg(args.objectId, 'objectId');
    const facility = facilityArg(args.facility, 'facility');
    const note = noteArg(args.note, 'note');
    await assertObjectExists(ctx.loaders.object, objectId);
    const request: FollowupRequest = {
      requestId: randomUUID(),
      objectId,
      facility,
      priority: args.priority,
      note,
      user: viewer.user,
      // Whole seconds: what the DateTime column keeps, so every copy of the request carries the same time.
      createdAt: new Date(Math.floor(Date.now() / 1000) * 1000),
    };
    await ctx.stores.followups.add([request]);
    await ctx.followups.publish(request);
    await ctx.events.publish([toFollowupEvent(request)]);
    ctx.logger.info(
      {
        requestId: request.requestId,
        objectId: request.objectId,
        facility: request.facility,
        user: viewer.user,
      },
      'follow-up requested',
    );
    void postToWebhooks(ctx, request);
    return toFollowupRequest(request);
  }

  @Authorized()
  @Query(() => [FollowupRequestType], {
    description: 'Follow-up requests on an object, oldest first.',
    complexity: listCost(OWNED_ITEMS),
  })
  async followups(
    @Arg('objectId', () => String) objectId: string,
    @Ctx() ctx: FollowupContext,
  ): Promise<FollowupRequestType[]> {
    const id = objectIdArg(objectId, 'objectId');
    const requests = (await ctx.stores.followups.byObjectIds([id])).get(id) ?? [];
    return requests.map(toFollowupRequest);
  }
}

/** In the background: never rejects, so a webhook problem can neither fail the mutation nor go unlogged. */
async function postToWebhooks(ctx: FollowupContext, request: FollowupRequest): Promise<void> {
  try {
    const webhooks = (await ctx.stores.webhooks.active()).filter((w) => webhookAccepts(w, request.facility));
    if (webhooks.length === 0) return;
    await ctx.webhooks.dispatch(webhooks, toFollowupEvent(request));
  } catch (err) {
    ctx.logger.error({ err, requestId: request.requestId }, 'follow-up webhooks not posted');
  }
}

/** @Authorized has run: a viewer is there; this narrows the type. */
function requireViewer(ctx: { viewer: Viewer | null }): Viewer {
  if (ctx.viewer === null) throw new Error('an @Authorized resolver ran without a viewer');
  return ctx.viewer;
}
