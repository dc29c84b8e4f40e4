/**
 * Reconciliation, after every assignment of shards: makes the record of the
 * owned shards' pairs agree with the index, once. From then on the index
 * feed's diffs keep it in agreement.
 *
 * The record is what storage's projection will hold: the Mongo `matches`
 * collection plus the `matches` log after the projector's committed offsets
 * (folded with storage's rule: a decision on strictly older versions is
 * ignored, others apply in log order). It covers whatever the shards'
 * previous owner decided before it stopped, and anything this instance did
 * not decide while it was starting or rebalancing (it owns no shard then).
 *
 * Steps: the feed catches up to the end of `listings` as of now; the record is
 * read; then each owned search is compared with its matches (found for those
 * not recorded as found, lost for those recorded that no longer match), in
 * chunks between which the feed runs on. Pairs the feed decides meanwhile are
 * left to the feed (its latest decision holds for the index as it is).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { matchesTopic } from '@pushtech/contracts';
import { readRange, type Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { Db } from '@pushtech/mongo';
import type { IndexFeed } from './index-feed.ts';
import type { Admin } from '@pushtech/listing-log';
import type { MatchEmitter } from './match-emitter.ts';
import type { Matching, RecordedPair } from './matching.ts';
import { committedOffsets, currentCollections, startAfter, watermarks } from '@pushtech/listing-log';
import { foundPairs } from './projection.ts';

export interface ReconcileOptions {
  shards: ReadonlySet<number>;
  matching: Matching;
  emitter: MatchEmitter;
  feed: IndexFeed;
  kafka: Kafka;
  admin: Admin;
  db: Db;
  listingsTopic: string;
  matchesTopic: string;
  projectorGroup: string;
  logger: Logger;
  /** False once a newer assignment has replaced this one: the reconciliation stops. */
  isCurrent: () => boolean;
  chunkSize?: number;
}

export interface ReconcileResult {
  searches: number;
  recordedPairs: number;
  tailRecords: number;
  decisions: number;
}

/** Storage's rule (match-document.ts): a decision on strictly older versions than the one recorded changes nothing. */
export function olderDecision(next: Pick<RecordedPair, 'searchVersion' | 'offerVersion'>, recorded: Pick<RecordedPair, 'searchVersion' | 'offerVersion'>): boolean {
  return next.searchVersion <= recorded.searchVersion && next.offerVersion <= recorded.offerVersion
    && (next.searchVersion < recorded.searchVersion || next.offerVersion < recorded.offerVersion);
}

export async function reconcileShards(options: ReconcileOptions): Promise<ReconcileResult | undefined> {
  const { shards, matching, emitter, feed, kafka, admin, db, logger, isCurrent } = options;
  const inShards = (searchId: string) => shards.has(matching.shardOf(searchId));
  const tracking = matching.trackDecisions();
  try {
    return await reconcile();
  } finally {
    tracking.stop();
  }

  async function reconcile(): Promise<ReconcileResult | undefined> {
    // 1. The index at least as new as anything the previous owner saw.
    await feed.reach((await watermarks(admin, options.listingsTopic)).high);
    if (!isCurrent()) return undefined;

    // 2. The record: the projection, then the log after the projector's offsets.
    const committed = await committedOffsets(admin, options.projectorGroup, options.matchesTopic);
    const marks = await watermarks(admin, options.matchesTopic);
    const recorded = new Map<string, Map<string, RecordedPair>>();
    const record = (pair: RecordedPair) => {
      let offers = recorded.get(pair.searchId);
      if (offers === undefined) { offers = new Map(); recorded.set(pair.searchId, offers); }
      const known = offers.get(pair.offerId);
      if (known === undefined || !olderDecision(pair, known)) offers.set(pair.offerId, pair);
    };
    const collections = await currentCollections(db);
    const projected = await foundPairs(db, collections.matches, inShards);
    for (const pair of projected) record(pair);
    const tailRecords = await readRange({
      kafka,
      topic: options.matchesTopic,
      from: startAfter(committed, marks),
      to: marks.high,
      logger,
      name: 'matcher.reconcile',
      each: (messages) => {
        for (const message of messages) {
          const parsed = matchesTopic.decode(message.value);
          if (!parsed.ok || !inShards(parsed.value.event.data.searchId)) continue;
          const { type, data } = parsed.value.event;
          record({ ...data, state: type === 'match.found' ? 'found' : 'lost' });
        }
      },
    });
    if (!isCurrent()) return undefined;

    // 3. Compare, a chunk at a time.
    const searches = new Set(matching.searchesIn(shards));
    for (const searchId of recorded.keys()) searches.add(searchId);
    const chunkSize = options.chunkSize ?? 1_000;
    let decisions = 0;
    let inChunk = 0;
    for (const searchId of searches) {
      decisions += matching.reconcileSearch(searchId, recorded.get(searchId), Date.now(), tracking.decided);
      if (++inChunk < chunkSize) continue;
      inChunk = 0;
      await emitter.flush();
      await yieldToLoop();
      if (!isCurrent()) return undefined;
    }
    await emitter.flush();
    return { searches: searches.size, recordedPairs: projected.length, tailRecords, decisions };
  }
}
