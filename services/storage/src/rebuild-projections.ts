/**
 * Rebuilds the projections from the log: replays topics `listings`, `matches`
 * and `users` from the beginning into fresh collections (`listings_<stamp>`,
 * `matches_<stamp>`, `devices_<stamp>`, `listing_cells_<stamp>`) with their indexes, then switches
 * `projection_meta` to them. The live projector keeps running meanwhile:
 *
 * 1. replay up to the end offsets read at the start;
 * 2. switch the pointer; wait until every reader follows it (`switchDelayMs`,
 *    longer than the pointer cache);
 * 3. replay on up to the end offsets read after that wait, so the events the
 *    live projector applied to the old collections before it switched are in
 *    the new ones too (applying twice changes nothing), then stop.
 *
 * The old collections stay (their names are returned) unless `dropOld`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CollectionNames } from '@pushtech/contracts';
import { retryRetriable, runConsumer, type Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { ensureIndexes, isFerretDb, type Db } from '@pushtech/mongo';
import { collectionPointer, projectionCollections, projectionIndexes } from './projection-collections.ts';
import { projectionHandler, type ProjectionTopics } from './projector.ts';

export interface RebuildProgress {
  /** replay: up to the end offsets of the start; switch: waiting for readers to follow; catch-up: up to the end offsets after that. */
  phase: 'replay' | 'switch' | 'catch-up' | 'done';
  /** Records handled so far (applied, ignored or invalid). */
  handled: number;
  /** Records in the topics when the phase started. */
  total: number;
  perSecond: number;
  elapsedS: number;
}

export interface RebuildOptions {
  kafka: Kafka;
  db: Db;
  topics: ProjectionTopics;
  logger: Logger;
  /** Called about every `progressEveryMs` and at the end of each phase. */
  progress?: (progress: RebuildProgress) => void;
  progressEveryMs?: number;
  /** Time for every reader to follow the switch; longer than the pointer cache (1 s). */
  switchDelayMs?: number;
  dropOld?: boolean;
  /** Defaults to `listings_<UTC yyyymmddhhmmssSSS>`, `matches_<…>`, `devices_<…>` and `listing_cells_<…>`. */
  names?: CollectionNames;
}

export interface RebuildResult {
  previous: CollectionNames;
  current: CollectionNames;
  handled: number;
  applied: number;
  ignored: number;
  seconds: number;
}

type Offsets = Map<string, { low: number; high: number }>;

const partitionKey = (topic: string, partition: number) => `${topic}/${partition}`;

async function endOffsets(kafka: Kafka, topics: string[]): Promise<Offsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets: Offsets = new Map();
    for (const topic of topics) {
      for (const p of await retryRetriable(() => admin.fetchTopicOffsets(topic))) {
        offsets.set(partitionKey(topic, p.partition), { low: Number(p.low), high: Number(p.high) });
      }
    }
    return offsets;
  } finally {
    await admin.disconnect();
  }
}

function defaultNames(now = new Date()): CollectionNames {
  const stamp = now.toISOString().replace(/\D/g, '').slice(0, 17);
  return { listings: `listings_${stamp}`, matches: `matches_${stamp}`, devices: `devices_${stamp}`, listingCells: `listing_cells_${stamp}` };
}

export async function rebuildProjections(options: RebuildOptions): Promise<RebuildResult> {
  const { kafka, db, logger } = options;
  const started = Date.now();
  const pointer = collectionPointer(db);
  const previous = await pointer.read();
  const names = options.names ?? defaultNames();
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const name of Object.values(names)) {
    if (existing.has(name)) throw new Error(`collection ${name} exists already: a rebuild writes only into fresh collections`);
  }
  await ensureIndexes(db, projectionIndexes(names));
  const target = projectionCollections(db, names);

  const topicNames = [options.topics.listings, options.topics.matches, options.topics.users];
  const positions = new Map<string, number>();
  let handled = 0;
  let applied = 0;
  let ignored = 0;
  let goal: { offsets: Offsets; reached: () => void } | undefined;
  const reachedGoal = () => {
    if (goal === undefined) return;
    for (const [key, { low, high }] of goal.offsets) if ((positions.get(key) ?? low) < high) return;
    goal.reached();
  };
  const untilCaughtUp = (offsets: Offsets) => new Promise<void>((resolve) => {
    goal = { offsets, reached: resolve };
    reachedGoal();
  });

  let phase: RebuildProgress['phase'] = 'replay';
  let total = 0;
  let phaseStart = { at: Date.now(), handled: 0 };
  const report = () => {
    const elapsed = (Date.now() - phaseStart.at) / 1000;
    options.progress?.({
      phase,
      handled,
      total,
      perSecond: elapsed > 0 ? Math.round((handled - phaseStart.handled) / elapsed) : 0,
      elapsedS: Math.round((Date.now() - started) / 100) / 10,
    });
  };
  const sumOf = (offsets: Offsets) => [...offsets.values()].reduce((n, { low, high }) => n + high - low, 0);

  const handle = projectionHandler({ topics: options.topics, target: async () => target, logger, guardByRead: await isFerretDb(db) });
  const first = await endOffsets(kafka, topicNames);
  total = sumOf(first);
  report();
  const timer = setInterval(report, options.progressEveryMs ?? 1_000);
  const groupId = `storage-rebuild-${names.listings}-${Math.random().toString(36).slice(2, 8)}`;
  const consumer = await runConsumer({
    kafka,
    groupId,
    topics: topicNames,
    logger,
    fromBeginning: true,
    eachBatch: async (messages) => {
      const done = await handle(messages);
      if (done) {
        applied += done.outcome.applied;
        ignored += done.outcome.ignored;
      }
      handled += messages.length;
      const last = messages[messages.length - 1]!;
      positions.set(partitionKey(last.topic, last.partition), Number(last.offset) + 1);
      reachedGoal();
    },
  });
  try {
    await untilCaughtUp(first);
    report();
    phase = 'switch';
    await pointer.switchTo(names);
    logger.info({ previous, current: names }, 'projections switched to the rebuilt collections');
    await sleep(options.switchDelayMs ?? 2_500);
    phase = 'catch-up';
    const second = await endOffsets(kafka, topicNames);
    total = handled + [...second].reduce((n, [key, { low, high }]) => n + Math.max(0, high - (positions.get(key) ?? low)), 0);
    phaseStart = { at: Date.now(), handled };
    await untilCaughtUp(second);
  } finally {
    clearInterval(timer);
    await consumer.stop();
  }
  phase = 'done';
  report();
  await deleteGroup(kafka, groupId, logger);
  if (options.dropOld && previous.listings !== names.listings) {
    for (const name of Object.values(previous)) await db.collection(name).drop().catch(() => false);
  }
  return { previous, current: names, handled, applied, ignored, seconds: (Date.now() - started) / 1000 };
}

async function deleteGroup(kafka: Kafka, groupId: string, logger: Logger): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch (err) {
    logger.warn({ groupId, err: (err as Error).message }, 'could not delete the rebuild\'s consumer group');
  } finally {
    await admin.disconnect();
  }
}
