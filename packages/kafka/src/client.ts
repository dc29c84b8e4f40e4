/**
 * The handle every service holds: `createKafka` → `Kafka`. Its types are ours; the clients are an
 * implementation detail of this package (`kafkajsOf` and `settingsOf` are not exported from the
 * package), so swapping a client changes this package only.
 */
import { Kafka as KafkaJS, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@pushtech/logging';
import { producerClientFromEnv, type ProducerClient } from './producer-client.ts';

export interface KafkaOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
  /** Connection attempts while the broker is unreachable (the client retries with back-off). */
  retries?: number;
  /**
   * The client's own log lines at or above this level reach the logger (default warn).
   * A service that retries with its own back-off and logs each failure once can pass 'none'.
   */
  logLevel?: 'none' | 'error' | 'warn' | 'info' | 'debug';
  /** The client behind `createProducer` (default: `KAFKA_PRODUCER`, else platformatic). */
  producer?: ProducerClient;
}

/** A connection to a Kafka cluster: consumers and producers are made from it by this package's functions. */
export interface Kafka {
  readonly clientId: string;
  /** The client `createProducer` uses unless told otherwise. */
  readonly producerClient: ProducerClient;
  /** A new admin connection (connect it, disconnect it when done). */
  admin(): KafkaAdmin;
}

export interface PartitionWatermarks {
  partition: number;
  /** Equal to `high` (the offset the next record gets). */
  offset: string;
  /** The offset the next record will get: the end of the partition. */
  high: string;
  /** The oldest offset still on the broker. */
  low: string;
}

export interface PartitionOffset {
  partition: number;
  /** The next offset to read; -1 where a group has committed nothing. */
  offset: string;
}

/** The admin requests the services make (names and shapes as kafkajs has them). */
export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Each partition's leader, its replicas and those in sync (node ids). */
  fetchTopicMetadata(options: { topics: string[] }): Promise<{ topics: { name: string; partitions: { partitionId: number; leader: number; replicas: number[]; isr: number[] }[] }[] }>;
  /** Each partition's low and high watermark. */
  fetchTopicOffsets(topic: string): Promise<PartitionWatermarks[]>;
  /** Per partition, the first offset written at or after `timestamp` (ms), or the end where there is none. */
  fetchTopicOffsetsByTimestamp(topic: string, timestamp: number): Promise<PartitionOffset[]>;
  /** A group's committed offsets. */
  fetchOffsets(options: { groupId: string; topics: string[] }): Promise<{ topic: string; partitions: PartitionOffset[] }[]>;
  /** Sets a group's committed offsets (the group must have no member). */
  setOffsets(options: { groupId: string; topic: string; partitions: PartitionOffset[] }): Promise<void>;
  deleteGroups(groupIds: string[]): Promise<unknown>;
  deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void>;
  /** Answers while a broker is reachable (a readiness check). */
  describeCluster(): Promise<{ clusterId: string; brokers: { nodeId: number; host: string; port: number }[] }>;
}

const kafkajsLevels = { none: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };

// Our producers bound their retries on purpose: the callers retry with their own
// back-off and at-least-once delivery with event ids makes duplicates harmless.
const EXPECTED_WARNINGS = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** What a handle was made with, for the producers (inside this package only). */
export interface KafkaSettings {
  clientId: string;
  brokers: string[];
  /** Attempts of a request while the broker is unreachable. */
  retries: number;
  producer: ProducerClient;
}

const clients = new WeakMap<Kafka, { kafkajs: KafkaJS; settings: KafkaSettings }>();

function internalsOf(kafka: Kafka) {
  const internals = clients.get(kafka);
  if (internals === undefined) throw new Error('not a Kafka handle made by createKafka');
  return internals;
}

/** The kafkajs client behind a handle (inside this package only). */
export function kafkajsOf(kafka: Kafka): KafkaJS {
  return internalsOf(kafka).kafkajs;
}

export function settingsOf(kafka: Kafka): KafkaSettings {
  return internalsOf(kafka).settings;
}

export function createKafka(options: KafkaOptions): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  const settings: KafkaSettings = {
    clientId: options.clientId,
    brokers: options.brokers,
    retries: options.retries ?? 8,
    producer: options.producer ?? producerClientFromEnv(),
  };
  const client = new KafkaJS({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: kafkajsLevels[options.logLevel ?? 'warn'],
    retry: { retries: settings.retries, initialRetryTime: 100, maxRetryTime: 5_000 },
    logCreator: () => ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      if (EXPECTED_WARNINGS.has(message)) return;
      log[levels[level] ?? 'info'](rest, message);
    },
  });
  const kafka: Kafka = {
    clientId: options.clientId,
    producerClient: settings.producer,
    admin: (): KafkaAdmin => client.admin(),
  };
  clients.set(kafka, { kafkajs: client, settings });
  return kafka;
}

/**
 * A readiness check (`/readyz`): answers while a broker is reachable. Connects again first, so a
 * client that lost every connection (the broker restarted) bootstraps anew.
 */
export async function pingKafka(admin: KafkaAdmin): Promise<unknown> {
  await admin.connect();
  return admin.describeCluster();
}
