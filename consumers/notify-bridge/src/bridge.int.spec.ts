// The notify bridge on the local stack: match events in (a topic of its own),
// push requests out; titles from a storage projection seeded in Mongo; devices
// from that projection and the users log; the pair window and the per-user cap
// in Mongo; a clock the test moves.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchData } from '@pushtech/contracts';
import { waitFor } from '@pushtech/testing';
import { decisionKey, requestUuid } from './notify-request.ts';
import { startTestBridge, testClock, testSettings, type TestBridge } from './test-bridge.ts';

const WINDOW_S = 3_600;
const CAP = 3;
const clock = testClock();
let t: TestBridge;

/** A device as storage's projection holds it. */
const deviceDocument = (userId: string, subscriptionId: string) => {
  const at = new Date().toISOString();
  const eventId = randomUUID();
  return { _id: subscriptionId, subscriptionId, userId, platform: 'ios', state: 'active', registeredAt: at, registrationId: eventId, eventIds: [eventId], updatedAt: at };
};

beforeAll(async () => {
  // Devices of alice … dina are in the projection when the bridge starts; those of the others come through the users log after it.
  t = await startTestBridge(testSettings({ PAIR_WINDOW_S: WINDOW_S, USER_MAX_PER_HOUR: CAP }), clock, async (db) => {
    await db.collection('devices').insertMany(['alice', 'bob', 'carl', 'dina'].map((userId) => deviceDocument(userId, `${userId}-phone`)) as never[]);
  });
  for (const userId of ['emma', 'fred', 'gus', 'hank', 'ivy']) await t.produceDevice('device.registered', userId, `${userId}-phone`);
  await t.produceDevice('device.registered', 'nils', 'nils-old-phone');
  await t.produceDevice('device.removed', 'nils', 'nils-old-phone'); // removed: nils has no device
  // The storage projection as the bridge reads it per batch: titles in `listings`.
  await t.db.collection('listings').insertMany([
    { _id: 's-bike', title: 'bike' }, { _id: 'o-bike', title: 'City bike, 28"' },
    ...['o1', 'o2', 'o3', 'o4', 's-lamp', 'o-lamp', 's-sofa', 'o-sofa', 's-desk', 'o-desk', 's-crash', 'o-crash'].map((id) => ({ _id: id, title: id })),
  ] as never[]);
});

afterAll(async () => {
  await t?.stop();
});

const match = (searchId: string, offerId: string, change: Partial<MatchData> = {}): MatchData => ({
  searchId, offerId, searchOwnerId: 'alice', offerOwnerId: 'bob', distanceM: 300, searchVersion: 1, offerVersion: 1, ...change,
});
const found = (data: MatchData, time?: Date) => t.produceMatch({ type: 'match.found', data }, time);
const lost = (data: MatchData) => t.produceMatch({ type: 'match.lost', data });
const skippedFor = (pair: string) => t.batches.flatMap((b) => b.skipped).filter((s) => s.pair === pair);
const requestedFor = (pair: string) => t.batches.flatMap((b) => b.requests).filter((r) => r.args.data.pair === pair);

describe('match.found → one push request for each owner', () => {
  it('the search\'s owner hears of the offer, the offer\'s owner of the search: texts, targets, data, keys', async () => {
    await found(match('s-bike', 'o-bike', { distanceM: 1_234, searchVersion: 4, offerVersion: 2 }));
    const requests = await t.waitForRequests(2);
    const pair = 's-bike|o-bike';
    const common = {
      type: 'push',
      responseTopic: t.settings.RESPONSE_TOPIC,
      versionUtcSeconds: expect.any(Number),
      sentAt: clock.now() / 1_000,
      style: { '2xx': { operation: 'success' }, '4xx': { operation: 'failure' }, '5xx': { operation: 'retry' } },
    };
    const data = { searchId: 's-bike', offerId: 'o-bike', pair };
    expect(requests.sort((a, b) => a.args.userIds[0].localeCompare(b.args.userIds[0]))).toEqual([
      { ...common, uuid: requestUuid(pair, 'alice', decisionKey({ searchVersion: 4, offerVersion: 2 })),
        args: { userIds: ['alice'], heading: 'Offer nearby', content: 'An offer for “bike” is 1.2 km away', data: { ...data, listingId: 'o-bike' } } },
      { ...common, uuid: requestUuid(pair, 'bob', decisionKey({ searchVersion: 4, offerVersion: 2 })),
        args: { userIds: ['bob'], heading: 'Someone nearby is looking', content: 'Someone 1.2 km away is looking for “City bike, 28"”', data: { ...data, listingId: 's-bike' } } },
    ]);
    expect(t.requests.messages.map((m) => m.key).sort()).toEqual(['alice', 'bob']);
    expect(await t.metric('notify_bridge_requests_total')).toBe(2);
  });

  it('a second match.found for the same pair within the window → nothing; after the window → notified again', async () => {
    const data = match('s-lamp', 'o-lamp', { searchOwnerId: 'carl', offerOwnerId: 'dina' });
    await found(data);
    await waitFor(() => (requestedFor('s-lamp|o-lamp').length === 2 ? true : undefined), 'the first two requests');
    // The pair was lost and found again (newer versions), 59 minutes later.
    await lost({ ...data, searchVersion: 2 });
    clock.advance((WINDOW_S - 60) * 1_000);
    await found({ ...data, searchVersion: 3 });
    await waitFor(() => (skippedFor('s-lamp|o-lamp').length === 2 ? true : undefined), 'the second decision skipped');
    expect(skippedFor('s-lamp|o-lamp').map((s) => [s.reason, s.userId]).sort()).toEqual([['pair_window', 'carl'], ['pair_window', 'dina']]);
    expect(requestedFor('s-lamp|o-lamp')).toHaveLength(2);
    expect(await t.metric('notify_bridge_skipped_total', 'reason="pair_window"')).toBe(2);

    // Two more minutes: the window of the first notification is over.
    clock.advance(120_000);
    await found({ ...data, searchVersion: 5 });
    await waitFor(() => (requestedFor('s-lamp|o-lamp').length === 4 ? true : undefined), 'notified again');
    const uuids = new Set(requestedFor('s-lamp|o-lamp').map((r) => r.uuid));
    expect(uuids.size).toBe(4);
  });

  it('the same decision handled again (a replay, or a second bridge instance) → already requested, nothing sent', async () => {
    const data = match('s-sofa', 'o-sofa', { searchOwnerId: 'emma', offerOwnerId: 'fred' });
    await found(data);
    await waitFor(() => (requestedFor('s-sofa|o-sofa').length === 2 ? true : undefined), 'the requests');
    await found(data); // the matcher sent the same decision again (same versions)
    await waitFor(() => (skippedFor('s-sofa|o-sofa').length === 2 ? true : undefined), 'the replay skipped');
    expect(skippedFor('s-sofa|o-sofa').map((s) => s.reason)).toEqual(['already_requested', 'already_requested']);
    expect(requestedFor('s-sofa|o-sofa')).toHaveLength(2);
  });

  it('a claim a crash left behind (claimed, no request sent yet) is resumed: the request goes out under the claim\'s uuid', async () => {
    const data = match('s-crash', 'o-crash', { searchOwnerId: 'ivy', offerOwnerId: 'hank', searchVersion: 2 });
    const pair = 's-crash|o-crash';
    const decision = decisionKey(data);
    const uuid = requestUuid(pair, 'ivy', decision);
    const bucket = Math.floor(clock.now() / (WINDOW_S * 1_000));
    await t.db.collection('notify_pairs').insertOne({ _id: `${pair}|ivy|${bucket}`, pair, userId: 'ivy', decision, uuid, status: 'claimed', sentAt: new Date(clock.now()) } as never);
    await found(data);
    await waitFor(() => (requestedFor(pair).length === 2 ? true : undefined), 'both requests');
    expect(requestedFor(pair).find((r) => r.args.userIds[0] === 'ivy')!.uuid).toBe(uuid);
    expect(await t.db.collection('notify_pairs').find({ pair }).sort({ userId: 1 }).toArray()).toEqual([
      expect.objectContaining({ userId: 'hank', status: 'sent' }),
      expect.objectContaining({ userId: 'ivy', status: 'sent', uuid }),
    ]);
  });

  it('at most USER_MAX_PER_HOUR notifications per user and hour: the rest are counted, not sent', async () => {
    // gus searches; four offers of four owners match his search within the hour.
    const owners = ['hank', 'ivy', 'bob', 'alice'];
    for (const [i, offerOwnerId] of owners.entries()) {
      await found(match('s-desk', `o${i + 1}`, { searchOwnerId: 'gus', offerOwnerId }));
    }
    await waitFor(() => (owners.every((_, i) => requestedFor(`s-desk|o${i + 1}`).length + skippedFor(`s-desk|o${i + 1}`).length === 2) ? true : undefined),
      'every pair decided');
    const forGus = owners.flatMap((_, i) => requestedFor(`s-desk|o${i + 1}`)).filter((r) => r.args.userIds[0] === 'gus');
    expect(forGus).toHaveLength(CAP);
    const capped = owners.flatMap((_, i) => skippedFor(`s-desk|o${i + 1}`));
    expect(capped).toEqual([expect.objectContaining({ reason: 'user_cap', userId: 'gus' })]);
    // Every offer owner heard of gus' search.
    expect(owners.flatMap((_, i) => requestedFor(`s-desk|o${i + 1}`)).filter((r) => r.args.userIds[0] !== 'gus').map((r) => r.args.userIds[0]).sort())
      .toEqual([...owners].sort());
    expect(await t.metric('notify_bridge_skipped_total', 'reason="user_cap"')).toBe(1);
    expect(await t.db.collection('notify_user_hours').countDocuments({ userId: 'gus' })).toBe(CAP);
  });

  it('a user without a device is skipped and counted; the other owner is notified', async () => {
    await found(match('s-bike', 'o2', { searchOwnerId: 'nils', offerOwnerId: 'carl' }));
    await waitFor(() => (skippedFor('s-bike|o2').length === 1 ? true : undefined), 'nils skipped');
    expect(skippedFor('s-bike|o2')).toEqual([{ reason: 'no_device', userId: 'nils', pair: 's-bike|o2' }]);
    await waitFor(() => (requestedFor('s-bike|o2').length === 1 ? true : undefined), 'carl notified');
    expect(requestedFor('s-bike|o2')[0]!.args.userIds).toEqual(['carl']);
    expect(await t.metric('notify_bridge_skipped_total', 'reason="no_device"')).toBe(1);
  });

  it('a device registered just before its match counts; once removed, the user is skipped', async () => {
    await t.produceDevice('device.registered', 'olga', 'olga-phone');
    await found(match('s-lamp', 'o3', { searchOwnerId: 'olga', offerOwnerId: 'carl' })); // right after: the feed may not have it yet
    await waitFor(() => (requestedFor('s-lamp|o3').length === 2 ? true : undefined), 'olga and carl notified');
    await t.produceDevice('device.removed', 'olga', 'olga-phone');
    await found(match('s-lamp', 'o4', { searchOwnerId: 'olga', offerOwnerId: 'carl' }));
    const olgas = () => skippedFor('s-lamp|o4').filter((s) => s.userId === 'olga');
    await waitFor(() => (olgas().length === 1 ? true : undefined), 'olga skipped');
    expect(olgas()).toEqual([{ reason: 'no_device', userId: 'olga', pair: 's-lamp|o4' }]);
    expect(requestedFor('s-lamp|o4').filter((r) => r.args.userIds[0] === 'olga')).toEqual([]);
  });

  it('match.lost → nothing', async () => {
    const before = await t.metric('notify_bridge_match_events_total', 'type="lost",outcome="handled"');
    await lost(match('s-bike', 'o3', { searchOwnerId: 'hank', offerOwnerId: 'ivy' }));
    await waitFor(async () => ((await t.metric('notify_bridge_match_events_total', 'type="lost",outcome="handled"')) > before ? true : undefined), 'the lost event handled');
    expect(requestedFor('s-bike|o3')).toEqual([]);
    expect(skippedFor('s-bike|o3')).toEqual([]);
  });

  it('a match decided longer ago than MATCH_MAX_AGE_S is not notified (counted as stale)', async () => {
    await found(match('s-bike', 'o4', { searchOwnerId: 'hank', offerOwnerId: 'ivy' }), new Date(clock.now() - 11 * 60_000));
    await waitFor(async () => ((await t.metric('notify_bridge_match_events_total', 'outcome="stale"')) === 1 ? true : undefined), 'the stale event counted');
    expect(requestedFor('s-bike|o4')).toEqual([]);
  });

  it('a title the projection does not have reads "your search"; titles come from the collection projection_meta names', async () => {
    await t.db.collection('listings_rebuilt').insertMany([{ _id: 's-new', title: 'Kinderwagen' }] as never[]);
    await t.db.collection('projection_meta').insertOne({ _id: 'current', listings: 'listings_rebuilt', matches: 'matches', devices: 'devices' } as never);
    clock.advance(1_000); // the pointer is read at most once a second (of the bridge's clock)
    await found(match('s-new', 'o-gone', { searchOwnerId: 'hank', offerOwnerId: 'ivy' }));
    await waitFor(() => (requestedFor('s-new|o-gone').length === 2 ? true : undefined), 'the requests');
    const contents = requestedFor('s-new|o-gone').map((r) => r.args.content).sort();
    expect(contents).toEqual(['An offer for “Kinderwagen” is 300 m away', 'Someone 300 m away is looking for your offer']);
    expect(await t.metric('notify_bridge_titles_missing_total')).toBe(1);
  });

  it('records that are not match events are logged, counted and skipped', async () => {
    await t.producer.send(t.settings.MATCHES_TOPIC, [{ key: 'x', value: 'not json' }, { key: 'x', value: JSON.stringify({ specversion: '1.0' }) }]);
    await waitFor(async () => ((await t.metric('notify_bridge_match_events_total', 'outcome="invalid"')) === 2 ? true : undefined), 'two invalid records');
  });

  it('counts the notifier\'s responses by type', async () => {
    await t.producer.send(t.settings.RESPONSE_TOPIC, [
      { key: 'u1', value: JSON.stringify({ type: 'success', uuid: 'u1', versionUtcSeconds: 1, handledAt: 2 }) },
      { key: 'u2', value: JSON.stringify({ type: 'failure', uuid: 'u2', versionUtcSeconds: 1, handledAt: 2, reason: 'status 400' }) },
      { key: 'u3', value: '{' },
    ]);
    const counts = async () => Promise.all(['success', 'failure', 'invalid'].map((type) => t.metric('notify_bridge_responses_total', `type="${type}"`)));
    await waitFor(async () => ((await counts()).every((n) => n === 1) ? true : undefined), 'one response of each type counted');
  });

  it('/readyz checks Mongo and Kafka', async () => {
    const res = await fetch(`${t.bridge.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { mongo: 'ok', kafka: 'ok', started: 'ok' } });
  });
});
