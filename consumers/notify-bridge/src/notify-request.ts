/**
 * The requests the bridge puts on `notify.requests`, in the notifier's
 * protocol (`PushRequest` of @pushtech/contracts; DESIGN.md, "Notifier protocol"):
 * a `push` to one user (OneSignal external id = our user id), answered on
 * the bridge's response topic: `success` for a 2xx, `failure` for a 4xx,
 * retried by the notifier on a 5xx (429 and 401 always).
 *
 * The uuid is derived from (pair, user, decision), so the same decision
 * handled twice (a redelivered or re-emitted match event) makes the same
 * request: the notifier ignores a uuid it has in hand, and OneSignal pushes
 * nothing twice for one `idempotency_key` (= the uuid).
 */
import { createHash } from 'node:crypto';
import type { PushRequest, Style } from '@pushtech/contracts';

/** The bridge's namespace for name-based (version 5) UUIDs. */
const UUID_NAMESPACE = Buffer.from('62594b5ca9d24c0e8e3b76d4630a10fa', 'hex');

/** RFC 9562 version 5: SHA-1 of the namespace and the name, version and variant bits set. */
export function nameUuid(name: string): string {
  const hash = createHash('sha1').update(UUID_NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A found decision of the matcher: the listing versions it was made on. The
 * matcher writes a pair's `match.found` only when the pair starts to match, on
 * newer versions each time; the same decision sent twice has the same versions.
 */
export function decisionKey(match: { searchVersion: number; offerVersion: number }): string {
  return `found:${match.searchVersion}:${match.offerVersion}`;
}

export function requestUuid(pair: string, userId: string, decision: string): string {
  return nameUuid(`${pair}|${userId}|${decision}`);
}

export const STYLE = {
  '2xx': { operation: 'success' },
  '4xx': { operation: 'failure' },
  '5xx': { operation: 'retry' },
} as const satisfies Style;

/** A push as the bridge makes it: to one user (keyed by it on `notify.requests`), about one pair. */
export type BridgePushRequest = PushRequest & {
  responseTopic: string;
  args: { userIds: [string]; heading: string; content: string; data: { searchId: string; offerId: string; pair: string; listingId: string } };
};

export interface RequestInput {
  uuid: string;
  userId: string;
  heading: string;
  content: string;
  data: BridgePushRequest['args']['data'];
  responseTopic: string;
  /** The bridge's version: its start time (seconds since the epoch). */
  versionUtcSeconds: number;
  /** Milliseconds since the epoch. */
  now: number;
}

export function pushRequest(input: RequestInput): BridgePushRequest {
  return {
    type: 'push',
    responseTopic: input.responseTopic,
    uuid: input.uuid,
    versionUtcSeconds: input.versionUtcSeconds,
    sentAt: input.now / 1_000,
    args: { userIds: [input.userId], heading: input.heading, content: input.content, data: input.data },
    style: STYLE,
  };
}
