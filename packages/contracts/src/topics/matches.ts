/**
 * Topic `matches`: the matcher's decisions, written only when the state of a
 * search/offer pair changes (kept forever, like `listings`: storage's `matches`
 * projection is rebuilt from it). Key and `subject`: the pair,
 * `pairKey(searchId, offerId)` (a pair's decisions stay in order). Value: a
 * CloudEvents envelope, `type` `match.found` / `match.lost`, `data` a `MatchData`.
 *
 * Written by the matcher; read by storage's projector, the notify bridge, and
 * the matcher itself (its reconciliation at start).
 */
import { z } from 'zod';
import { days } from '@pushtech/kafka';
import { eventTopic, type DataSchemas } from '../event-topic.ts';

export interface MatchData {
  searchId: string;
  offerId: string;
  searchOwnerId: string;
  offerOwnerId: string;
  /** Distance between the two listings when the state changed (0 for a lost match when unknown). */
  distanceM: number;
  /** The listing versions the decision was made on: a consumer keeps the newest decision per pair. */
  searchVersion: number;
  offerVersion: number;
}

export type MatchEvent =
  | { type: 'match.found'; data: MatchData }
  | { type: 'match.lost'; data: MatchData };

export function pairKey(searchId: string, offerId: string): string {
  return `${searchId}|${offerId}`;
}

const id = z.string().min(1);
// Owner ids are a listing's `ownerId`: never empty.
const matchData = z.object({
  searchId: id,
  offerId: id,
  searchOwnerId: z.string().min(1),
  offerOwnerId: z.string().min(1),
  distanceM: z.number().min(0),
  searchVersion: z.int().min(0),
  offerVersion: z.int().min(0),
});

export const matchEventSchemas = { 'match.found': matchData, 'match.lost': matchData } as const satisfies DataSchemas<MatchEvent>;

export const matchesTopic = eventTopic({
  // Compacted: the newest record of a pair (found or lost) is the pair's state, which is all the
  // projection and a rebuild need; a week before compaction keeps every change for live readers.
  spec: { name: 'matches', partitions: 6, retentionMs: -1, cleanupPolicy: 'compact', configs: { 'min.compaction.lag.ms': String(days(7)) } },
  writers: ['matcher'],
  readers: ['storage (projector)', 'notify-bridge', 'matcher (reconciliation)'],
  dataSchemas: matchEventSchemas,
  key: (event: MatchEvent) => pairKey(event.data.searchId, event.data.offerId),
});
