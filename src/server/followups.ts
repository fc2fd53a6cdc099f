// Follow-up requests on Kafka (config server.followupTopic, fink_followups by default): one JSON message per
// request, keyed by object id so that the requests for one object stay in order on one partition. Facilities run
// their own consumers on this topic; webhooks (src/server/webhooks.ts) serve those that prefer HTTP.
import type { Producer } from 'kafkajs';
import { retry } from '../pipeline/framework.ts';
import { SEND_RETRY } from '../pipeline/kafka.ts';
import { toFollowupEvent, type FollowupPublisher } from '../resolvers/services.ts';

export function createKafkaFollowupPublisher(producer: Producer, topic: string): FollowupPublisher {
  return {
    async publish(request) {
      await retry(
        () =>
          producer.send({
            topic,
            acks: -1,
            messages: [{ key: request.objectId, value: JSON.stringify(toFollowupEvent(request)) }],
          }),
        SEND_RETRY,
      );
    },
  };
}
