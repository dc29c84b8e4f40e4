/**
 * The matcher as a service: Mongo (storage's projection) and Kafka (topics,
 * producer) are its dependencies, connected with back-off while it already
 * answers /healthz; once both are there it starts matching (matching-start.ts):
 * the index from the projection plus the log after it, then shard ownership.
 * It is ready once it has caught up and joined its group. `main.ts` runs it;
 * the tests start the same.
 */
import { hostname } from 'node:os';
import { topics } from '@pushtech/contracts';
import { createKafka, createProducer, ensureTopics, pingKafka, type Kafka, type KafkaAdmin, type Producer } from '@pushtech/kafka';
import { connectMongo, pingMongo, type MongoClient } from '@pushtech/mongo';
import { defineService, type Dependencies, type ServiceContext } from '@pushtech/service';
import { matcherConfigSpec, type MatcherConfig } from './config.ts';
import { startMatching, startProgress } from './matching-start.ts';

/** Kafka, topics made: the client, an admin connection (offsets, watermarks, /readyz) and the producer of decisions. */
export interface MatcherKafka {
  client: Kafka;
  admin: KafkaAdmin;
  producer: Producer;
}

/** Mongo holds storage's projection (read at start and when reconciling). */
export type MatcherDependencies = { mongo: MongoClient; kafka: MatcherKafka };

async function connectKafka({ config, logger }: ServiceContext<MatcherConfig>): Promise<MatcherKafka> {
  const client = createKafka({ clientId: `matcher-${hostname()}`, brokers: config.KAFKA_BROKERS, logger });
  const admin = client.admin();
  try {
    await admin.connect();
    await ensureTopics(client, [
      { ...topics.listings, name: config.LISTINGS_TOPIC },
      { ...topics.matches, name: config.MATCHES_TOPIC },
    ]);
    return { client, admin, producer: await createProducer(client) };
  } catch (err) {
    await admin.disconnect();
    throw err;
  }
}

function matcherDependencies(ctx: ServiceContext<MatcherConfig>): Dependencies<MatcherDependencies> {
  return {
    mongo: {
      connect: () => connectMongo(ctx.config.MONGO_URL, { appName: 'matcher' }),
      check: (mongo) => pingMongo(mongo.db(ctx.config.MONGO_DB)),
      close: (mongo) => mongo.close(),
    },
    kafka: {
      connect: () => connectKafka(ctx),
      check: (kafka) => pingKafka(kafka.admin),
      close: async (kafka) => {
        await kafka.producer.disconnect();
        await kafka.admin.disconnect();
      },
    },
  };
}

export const matcher = defineService({
  name: 'matcher',
  config: matcherConfigSpec,
  dependencies: matcherDependencies,
  start: startMatching,
  // While it starts, /readyz says how far (`loading: 120000 listings`, `catching-up: 5000 records behind`).
  checks: (ctx) => ({
    index: async () => {
      const progress = startProgress(ctx);
      if (progress !== 'ready') throw new Error(progress);
    },
  }),
  // HTTP is closed first; then it decides nothing more, sends what it decided and leaves its group; Kafka and Mongo close after.
  stop: (running) => running.stop(),
});
