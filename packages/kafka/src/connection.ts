/**
 * Kafka as a service holds it: its topics made, a producer, and an admin connection that answers
 * readiness checks. What a service's Kafka dependency connects (retried by @pushtech/service until
 * it resolves) and closes.
 */
import { createKafka, pingKafka, type Kafka, type KafkaAdmin, type KafkaOptions } from './client.ts';
import { createProducer, type Producer } from './producer.ts';
import { ensureTopics, type TopicSpec } from './topics.ts';

export interface KafkaConnection {
  client: Kafka;
  producer: Producer;
  /** Connected by `ping`; for the service's own admin requests too. */
  admin: KafkaAdmin;
  /** Answers while a broker is reachable (a readiness check). */
  ping(): Promise<unknown>;
  /** Disconnects the producer and the admin. */
  close(): Promise<void>;
}

/** Creates the missing `topics`, then connects a producer. */
export async function connectKafka(options: KafkaOptions & { topics: TopicSpec[] }): Promise<KafkaConnection> {
  const { topics, ...clientOptions } = options;
  const client = createKafka(clientOptions);
  await ensureTopics(client, topics);
  const producer = await createProducer(client);
  const admin = client.admin();
  return {
    client,
    producer,
    admin,
    ping: () => pingKafka(admin),
    async close() {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}
