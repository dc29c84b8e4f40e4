import { hostPorts, string, url, type ConfigOf } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { serviceConfig } from '@pushtech/service';

/** Every variable the matcher service reads (the README has the table). */
export const matcherConfigSpec = {
  /** HTTP of /healthz, /readyz and /metrics. */
  ...serviceConfig({ port: 8084 }),
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
};

export type MatcherConfig = ConfigOf<typeof matcherConfigSpec>;
