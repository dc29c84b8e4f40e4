/**
 * The bridge's work on one batch of `matches` (one partition's fetch): every
 * pair's latest decision in the batch counts; a `match.found` becomes one
 * notification for each owner — unless the owner has no device, heard of the
 * pair within the window, or reached the hourly cap (each counted and logged) —
 * and the requests go to the notifier in one send. Throws (and the batch is
 * read again) when Mongo or Kafka fail; handling a batch again is safe (see
 * throttle.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { matchesTopic, notifyRequestsTopic, pairKey, type MatchEvent, type Recorded } from '@pushtech/contracts';
import type { ConsumedMessage, Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { DeviceDirectory } from './device-owners.ts';
import type { BridgeMetrics } from './metrics.ts';
import { matchNotifications, type Notification } from './notification.ts';
import { decisionKey, pushRequest, requestUuid, type BridgePushRequest } from './notify-request.ts';
import type { StorageProjection } from './projection.ts';
import type { Throttle } from './throttle.ts';

export type SkipReason = 'no_device' | 'pair_window' | 'user_cap' | 'already_requested';

export interface MatchHandlerOptions {
  projection: StorageProjection;
  devices: DeviceDirectory;
  throttle: Throttle;
  producer: Producer;
  requestsTopic: string;
  responseTopic: string;
  /** The bridge's version in its requests: its start time, seconds since the epoch. */
  versionUtcSeconds: number;
  /** 0: no limit. */
  matchMaxAgeS: number;
  metrics: BridgeMetrics;
  logger: Logger;
  now: () => number;
  /** When a title is missing, read the titles once more after this many ms (0: never). */
  titleRetryMs?: number;
}

export interface BatchResult {
  requests: BridgePushRequest[];
  skipped: { reason: SkipReason; userId: string; pair: string }[];
}

interface Candidate {
  pair: string;
  record: MatchRecord;
  notification: Notification;
}

/** A record of `matches`: the matcher decided at `time`. */
type MatchRecord = Recorded<MatchEvent>;

const typeLabel = (record: MatchRecord) => (record.event.type === 'match.found' ? 'found' : 'lost');

export function matchHandler(options: MatchHandlerOptions) {
  const { projection, throttle, metrics, logger } = options;
  const titleRetryMs = options.titleRetryMs ?? 500;

  /** The latest decision of each pair in the batch (a pair's events are in order: one partition). */
  function latestDecisions(messages: ConsumedMessage[]): Map<string, MatchRecord> {
    const latest = new Map<string, MatchRecord>();
    for (const message of messages) {
      const parsed = matchesTopic.decode(message.value);
      if (!parsed.ok) {
        metrics.matchEvents.inc({ type: 'unknown', outcome: 'invalid' });
        logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, key: message.key, errors: parsed.errors },
          'record skipped: not a valid match event');
        continue;
      }
      const { data } = parsed.value.event;
      const pair = pairKey(data.searchId, data.offerId);
      const before = latest.get(pair);
      if (before !== undefined) metrics.matchEvents.inc({ type: typeLabel(before), outcome: 'superseded' });
      latest.set(pair, parsed.value);
    }
    return latest;
  }

  async function titlesOf(found: { record: MatchRecord }[]): Promise<Map<string, string>> {
    const ids = [...new Set(found.flatMap(({ record }) => [record.event.data.searchId, record.event.data.offerId]))];
    let titles = await projection.titles(ids);
    if (titles.size < ids.length && titleRetryMs > 0) {
      await sleep(titleRetryMs); // the storage projector may be a moment behind the matcher
      titles = await projection.titles(ids);
    }
    return titles;
  }

  return async function handle(messages: ConsumedMessage[]): Promise<BatchResult> {
    const result: BatchResult = { requests: [], skipped: [] };
    const now = options.now();
    const found: { pair: string; record: MatchRecord }[] = [];
    let stale = 0;
    let newest = 0;
    for (const [pair, record] of latestDecisions(messages)) {
      const decidedAt = Date.parse(record.time);
      newest = Math.max(newest, decidedAt);
      if (record.event.type === 'match.lost') {
        metrics.matchEvents.inc({ type: 'lost', outcome: 'handled' });
        continue;
      }
      if (options.matchMaxAgeS > 0 && now - decidedAt > options.matchMaxAgeS * 1_000) {
        metrics.matchEvents.inc({ type: 'found', outcome: 'stale' });
        logger.debug({ pair, eventId: record.eventId, decidedAt: record.time }, 'match decided too long ago: not notified');
        stale++;
        continue;
      }
      metrics.matchEvents.inc({ type: 'found', outcome: 'handled' });
      found.push({ pair, record });
    }
    if (newest > 0) metrics.lastDecisionTime.set(newest / 1_000);
    if (stale > 0) logger.info({ stale, maxAgeS: options.matchMaxAgeS }, 'match events decided too long ago: not notified');
    if (found.length === 0) return result;

    const owners = [...new Set(found.flatMap(({ record }) => [record.event.data.searchOwnerId, record.event.data.offerOwnerId]))];
    const [titles, withDevices] = await Promise.all([titlesOf(found), options.devices.usersWithDevices(owners)]);
    const candidates: Candidate[] = found.flatMap(({ pair, record }) => {
      const { searchId, offerId } = record.event.data;
      return matchNotifications(record.event.data, { search: titles.get(searchId), offer: titles.get(offerId) })
        .map((notification) => ({ pair, record, notification }));
    });

    const sent: string[] = [];
    const capped: string[] = [];
    const skip = (reason: SkipReason, { pair, notification, record }: Candidate, details: Record<string, unknown> = {}) => {
      metrics.skipped.inc({ reason });
      result.skipped.push({ reason, userId: notification.userId, pair });
      logger.info({ reason, userId: notification.userId, side: notification.side, pair, eventId: record.eventId, ...details }, 'notification not sent');
    };

    const withDevice = candidates.filter((candidate) => {
      if (withDevices.has(candidate.notification.userId)) return true;
      skip('no_device', candidate);
      return false;
    });
    const inputs = withDevice.map(({ pair, record, notification }) => {
      const decision = decisionKey(record.event.data);
      return { pair, userId: notification.userId, decision, uuid: requestUuid(pair, notification.userId, decision), now };
    });
    const claims = await throttle.claimPairs(inputs);
    const claimed: { candidate: Candidate; key: string; uuid: string }[] = [];
    withDevice.forEach((candidate, i) => {
      const claim = claims[i]!;
      if (claim.outcome === 'window') skip('pair_window', candidate, { since: claim.since.toISOString() });
      else if (claim.outcome === 'resume' && claim.status === 'sent') skip('already_requested', candidate, { uuid: inputs[i]!.uuid });
      else if (claim.outcome === 'resume' && claim.status === 'capped') skip('user_cap', candidate);
      else claimed.push({ candidate, key: claim.key, uuid: inputs[i]!.uuid });
    });
    const slots = await throttle.takeUserSlots(claimed.map(({ candidate }) => candidate.notification.userId), now);
    claimed.forEach(({ candidate, key, uuid }, i) => {
      if (!slots[i]) {
        capped.push(key);
        skip('user_cap', candidate);
        return;
      }
      const { pair, record, notification } = candidate;
      const { userId } = notification;
      const { searchId, offerId } = record.event.data;
      if (!titles.has(notification.side === 'search' ? searchId : offerId)) metrics.titlesMissing.inc();
      result.requests.push(pushRequest({
        uuid,
        userId,
        heading: notification.heading,
        content: notification.content,
        // listingId: the other side's listing, what the recipient wants to see (a browser opens it on click).
        data: { searchId, offerId, pair, listingId: notification.side === 'search' ? offerId : searchId },
        responseTopic: options.responseTopic,
        versionUtcSeconds: options.versionUtcSeconds,
        now,
      }));
      sent.push(key);
    });

    await options.producer.send(options.requestsTopic, result.requests.map((r) => notifyRequestsTopic.encode(r)));
    await throttle.settle(sent, 'sent');
    await throttle.settle(capped, 'capped');
    metrics.requests.inc(result.requests.length);
    for (const r of result.requests) logger.info({ uuid: r.uuid, userId: r.args.userIds[0], pair: r.args.data.pair }, 'push requested');
    return result;
  };
}
