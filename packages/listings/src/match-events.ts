/**
 * Match events on topic `matches` (key: the pair, `pairKey(searchId, offerId)`),
 * written by the matcher only when the state of a pair changes.
 */
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
