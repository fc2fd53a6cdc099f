// Follow-up requests on Kafka (config server.followupTopic, fink_followups by default): one JSON message per
// request, keyed by object id so that the requests for one object stay in order on one partition. Facilities run
// their own consumers on this topic; webhooks (src/server/webhooks.ts) serve those that prefer HTTP.
import type { Producer } from 'kafkajs';
import type { FollowupRequest } from '../storage/followup-store.ts';
import type { FollowupEvent } from '../events.ts';

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

export function createKafkaFollowupPublisher(producer: Producer, topic: string): FollowupPublisher {
  return {
    async publish(request) {
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: request.objectId, value: JSON.stringify(toFollowupEvent(request)) }],
      });
    },
  };
}
