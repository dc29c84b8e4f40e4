import { hostPorts, int, oneOf, string, url, type ConfigOf } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { logLevels } from '@pushtech/logging';

/** Every variable the matcher service reads (the lead's README section has the table). */
export const matcherConfigSpec = {
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  MONGO_URL: url({ protocols: ['mongodb:', 'mongodb+srv:'], default: 'mongodb://127.0.0.1:27117' }),
  /** The database of storage's projection. */
  MONGO_DB: string({ default: 'pushtech' }),
  LISTINGS_TOPIC: string({ default: topics.listings.name }),
  MATCHES_TOPIC: string({ default: topics.matches.name }),
  /** Instances in this group share the shards (the partitions of LISTINGS_TOPIC). */
  MATCHER_GROUP: string({ default: 'matcher' }),
  /** Storage's projector group: the matcher starts from its committed offsets. */
  PROJECTOR_GROUP: string({ default: 'storage-projector' }),
  /** HTTP port of /healthz, /readyz and /metrics; 0 picks a free one. */
  PORT: int({ default: 8084, min: 0, max: 65_535 }),
  LOG_LEVEL: oneOf(logLevels, { default: 'info' }),
};

export type MatcherConfig = ConfigOf<typeof matcherConfigSpec>;
