/**
 * The projector: applies topic `listings` to the Mongo collection `listings`,
 * topic `matches` to `matches` and topic `users` to `devices` (the collections
 * `projection_meta` names; listings also to the nearby index `listing_cells`, listing-cells.ts),
 * idempotently, at least once (consumer group PROJECTOR_GROUP, from the
 * beginning for a new group). A record that cannot be read is logged with
 * its reason and counted, then skipped; a Mongo failure makes the batch retry.
 */
import {
  evolveDeviceDocument, listingsTopic, matchesTopic, pairKey, usersTopic, type DeviceDocument, type DeviceEvent, type MatchEvent, type Recorded,
} from '@pushtech/contracts';
import type { Validation } from '@pushtech/events';
import { runConsumer, type ConsumedMessage, type Kafka, type RunningConsumer } from '@pushtech/kafka';
import { listingIdOf, type ListingEvent } from '@pushtech/listings';
import type { Logger } from '@pushtech/logging';
import { writeListingCells } from './listing-cells.ts';
import { evolveListingDocument, type ListingDocument } from './listing-document.ts';
import { evolveMatchDocument, type MatchDocument } from './match-document.ts';
import type { StorageMetrics } from './metrics.ts';
import type { ProjectionCollections } from './projection-collections.ts';
import { applyBatch, type BatchOutcome, type Projection } from './projection-writer.ts';
import { deviceSignalKey, type AppliedSignal } from './read-your-writes.ts';

export const listingProjection: Projection<ListingDocument, ListingEvent> = {
  keyOf: listingIdOf,
  evolve: evolveListingDocument,
};

export const matchProjection: Projection<MatchDocument, MatchEvent> = {
  keyOf: (event) => pairKey(event.data.searchId, event.data.offerId),
  evolve: evolveMatchDocument,
};

export const deviceProjection: Projection<DeviceDocument, DeviceEvent> = {
  keyOf: (event) => event.data.subscriptionId,
  evolve: evolveDeviceDocument,
};

export interface ProjectionTopics {
  listings: string;
  matches: string;
  users: string;
}

export interface ProjectionHandlerOptions {
  topics: ProjectionTopics;
  /** Where to write: the current collections (projector) or fresh ones (rebuild). */
  target: () => Promise<ProjectionCollections>;
  logger: Logger;
  metrics?: StorageMetrics;
  /** Told which listings and subscriptions a batch touched (read-your-writes in the same process). */
  signal?: AppliedSignal;
  /** Check the write guard on an `_id` read (FerretDB: see projection-writer.ts). */
  guardByRead?: boolean;
}

export type TopicName = keyof ProjectionTopics;

/** Handles one partition's batch of either topic; returns what it did. */
export function projectionHandler(options: ProjectionHandlerOptions) {
  const { topics, target, logger, metrics, signal } = options;
  const writeOptions = { guardByRead: options.guardByRead };

  function valid<E>(messages: ConsumedMessage[], topic: TopicName, decode: (v: Buffer | null) => Validation<Recorded<E>>): Recorded<E>[] {
    const records: Recorded<E>[] = [];
    for (const message of messages) {
      const parsed = decode(message.value);
      if (parsed.ok) {
        records.push(parsed.value);
        continue;
      }
      metrics?.projectedEvents.inc({ topic, outcome: 'invalid' });
      logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, key: message.key, errors: parsed.errors },
        'record skipped: not a valid event');
    }
    return records;
  }

  return async function handle(messages: ConsumedMessage[]): Promise<{ topic: TopicName; outcome: BatchOutcome } | undefined> {
    const first = messages[0];
    if (first === undefined) return undefined;
    const collections = await target();
    let topic: TopicName;
    let outcome: BatchOutcome;
    if (first.topic === topics.listings) {
      topic = 'listings';
      outcome = await applyBatch(collections.listings, listingProjection, valid(messages, topic, listingsTopic.decode), {
        ...writeOptions,
        beforeWrite: (before, after) => writeListingCells(collections.listingCells, before, after),
      });
      signal?.notify(outcome.keys);
    } else if (first.topic === topics.matches) {
      topic = 'matches';
      outcome = await applyBatch(collections.matches, matchProjection, valid(messages, topic, matchesTopic.decode), writeOptions);
    } else if (first.topic === topics.users) {
      topic = 'users';
      outcome = await applyBatch(collections.devices, deviceProjection, valid(messages, topic, usersTopic.decode), writeOptions);
      signal?.notify(outcome.keys.map(deviceSignalKey));
    } else {
      logger.warn({ topic: first.topic, count: messages.length }, 'records of an unexpected topic skipped');
      return undefined;
    }
    if (metrics) {
      metrics.projectedEvents.inc({ topic, outcome: 'applied' }, outcome.applied);
      metrics.projectedEvents.inc({ topic, outcome: 'ignored' }, outcome.ignored);
      metrics.lastAppliedTimestamp.set({ topic }, Date.now() / 1000);
      metrics.lagSeconds.set({ topic }, Math.max(0, Date.now() - messages[messages.length - 1]!.timestamp) / 1000);
    }
    logger.debug({ topic, applied: outcome.applied, ignored: outcome.ignored, documents: outcome.keys.length }, 'batch projected');
    return { topic, outcome };
  };
}

export interface ProjectorOptions extends ProjectionHandlerOptions {
  kafka: Kafka;
  groupId: string;
  /** Resolve once the group has joined (tests). */
  awaitJoin?: boolean;
}

export async function startProjector(options: ProjectorOptions): Promise<RunningConsumer> {
  const handle = projectionHandler(options);
  const consumer = await runConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [options.topics.listings, options.topics.matches, options.topics.users],
    logger: options.logger,
    fromBeginning: true,
    awaitJoin: options.awaitJoin,
    eachBatch: async (messages) => {
      await handle(messages);
    },
  });
  options.logger.info({ groupId: options.groupId, topics: options.topics }, 'projector running');
  return consumer;
}
