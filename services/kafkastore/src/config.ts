import { hostname } from 'node:os';
import { hostPorts, int, string, url, type ConfigOf } from '@pushtech/config';
import { DEFAULT_TRACKER_STREAM, topics } from '@pushtech/contracts';
import { serviceConfig } from '@pushtech/service';

/** Every variable the kafkastore reads (README has the table). */
export const configSpec = {
  ...serviceConfig({ port: 8082 }),
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  REDIS_URL: url({ protocols: ['redis:', 'rediss:'], default: 'redis://127.0.0.1:16379' }),
  /** The tracker's stream (one Redis, one stream per tracker). */
  REDIS_STREAM: string({ default: DEFAULT_TRACKER_STREAM }),
  CONSUMER_GROUP: string({ default: 'kafkastore' }),
  /** Must stay the same across restarts of one instance, so it finds its own pending entries again. */
  CONSUMER_NAME: string({ default: hostname() }),
  BATCH_MAX_EVENTS: int({ default: 1000, min: 1, max: 10_000 }),
  BATCH_MAX_WAIT_MS: int({ default: 50, min: 1, max: 60_000 }),
  CLAIM_IDLE_MS: int({ default: 30_000, min: 100, max: 86_400_000 }),
  EVENTS_TOPIC: string({ default: topics.events.name }),
  DLQ_TOPIC: string({ default: topics.eventsDlq.name }),
};

export type KafkastoreConfig = ConfigOf<typeof configSpec>;
