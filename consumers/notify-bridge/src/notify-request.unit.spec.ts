import { describe, expect, it } from 'vitest';
import { notifyRequestsTopic } from '@pushtech/contracts';
import { decisionKey, nameUuid, pushRequest, requestUuid } from './notify-request.ts';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request uuid', () => {
  it('is a version 5 UUID, the same for the same pair, user and decision', () => {
    const uuid = requestUuid('s1|o1', 'alice', decisionKey({ searchVersion: 2, offerVersion: 1 }));
    expect(uuid).toMatch(UUID_V5);
    expect(requestUuid('s1|o1', 'alice', 'found:2:1')).toBe(uuid);
  });

  it('differs for another user, pair or decision', () => {
    const uuids = new Set([
      requestUuid('s1|o1', 'alice', 'found:2:1'),
      requestUuid('s1|o1', 'bob', 'found:2:1'),
      requestUuid('s1|o2', 'alice', 'found:2:1'),
      requestUuid('s1|o1', 'alice', 'found:3:1'),
    ]);
    expect(uuids.size).toBe(4);
  });

  it('is stable across releases (a replay after an upgrade keeps its idempotency key)', () => {
    expect(nameUuid('s1|o1|alice|found:2:1')).toBe(requestUuid('s1|o1', 'alice', 'found:2:1'));
    // RFC 9562 version 5 of the bridge's namespace: Python's uuid.uuid5(UUID("62594b5c-a9d2-4c0e-8e3b-76d4630a10fa"), "pushtech") agrees.
    expect(nameUuid('pushtech')).toBe('c51f1e38-0694-59d2-aef3-8465f2179d42');
  });
});

describe('pushRequest', () => {
  it('is the notifier protocol\'s push: one user, success on 2xx, failure on 4xx, retry on 5xx', () => {
    const request = pushRequest({
      uuid: '6f1c3e2a-9b8d-5c4e-a1f2-3b4c5d6e7f80',
      userId: 'alice',
      heading: 'Offer nearby',
      content: 'An offer for “bike” is 300 m away',
      data: { searchId: 's1', offerId: 'o1', pair: 's1|o1', listingId: 'o1' },
      responseTopic: 'notify.results.bridge',
      versionUtcSeconds: 1_581_255_042.707,
      now: 1_581_255_043_000,
    });
    expect(request).toEqual({
      type: 'push',
      responseTopic: 'notify.results.bridge',
      uuid: '6f1c3e2a-9b8d-5c4e-a1f2-3b4c5d6e7f80',
      versionUtcSeconds: 1_581_255_042.707,
      sentAt: 1_581_255_043,
      args: { userIds: ['alice'], heading: 'Offer nearby', content: 'An offer for “bike” is 300 m away', data: { searchId: 's1', offerId: 'o1', pair: 's1|o1', listingId: 'o1' } },
      style: { '2xx': { operation: 'success' }, '4xx': { operation: 'failure' }, '5xx': { operation: 'retry' } },
    });
    expect(notifyRequestsTopic.decode(notifyRequestsTopic.encode(request).value)).toEqual({ kind: 'push', request });
    expect(notifyRequestsTopic.encode(request).key).toBe('alice');
  });
});
