// What mutations trigger outside storage, as the resolvers see it (ctx.followups, ctx.webhooks): the server
// implements these (src/server/followups.ts on Kafka, src/server/webhooks.ts over HTTP); tests record them.
import type { FollowupEvent } from '../events.ts';
import type { FollowupRequest } from '../storage/followup-store.ts';

/** What the requestFollowup mutation needs (ctx.followups); a recording fake in tests. */
export interface FollowupPublisher {
  /** Resolves once the broker acknowledged the message (acks from all in-sync replicas). */
  publish(request: FollowupRequest): Promise<void>;
}

/** The JSON every consumer sees: on the followup topic, in the events topic and in webhook bodies. */
export function toFollowupEvent(request: FollowupRequest): FollowupEvent {
  return {
    type: 'followup',
    requestId: request.requestId,
    objectId: request.objectId,
    facility: request.facility,
    priority: request.priority,
    user: request.user,
    note: request.note,
    createdAt: request.createdAt.toISOString(),
  };
}

export interface WebhookTarget {
  id: string;
  url: string;
  secret: string;
}

export interface DeliveryResult {
  webhookId: string;
  deliveryId: string;
  ok: boolean;
  attempts: number;
  /** HTTP status of the last attempt; null when it never got one (network error or timeout). */
  status: number | null;
}

export interface WebhookDispatcher {
  /**
   * POSTs `payload` (serialised once: every webhook gets the same bytes) to each webhook concurrently. Never
   * rejects: failures are logged and reported in the results. Callers that must not wait do `void dispatch(...)`.
   */
  dispatch(webhooks: readonly WebhookTarget[], payload: { type: string }): Promise<DeliveryResult[]>;
  /** Resolves when every delivery started so far has finished (graceful shutdown, tests). */
  idle(): Promise<void>;
}
