import { describe, expect, it } from 'vitest';
import { canonicalUrl, closeAll, syncItems, type KnownItem, type SyncSource } from './sync-items.ts';
import type { FeedItem } from './parse-items.ts';

const HOUR = 3_600_000;
const source: SyncSource = { id: 'src1', defaultLocation: { type: 'Point', coordinates: [13.4, 52.5] }, radiusM: 2_000, tags: ['free'], ttlHours: 24 };
const item = (n: number, change: Partial<FeedItem> = {}): FeedItem => ({ guid: `g${n}`, url: `https://x.example/${n}`, title: `Item ${n}`, description: `<p>About ${n}</p>`, ...change });

function run(known: KnownItem[], items: FeedItem[], now: number, src = source) {
  return syncItems({ source: src, known, items, now });
}

describe('syncItems', () => {
  it('creates one listing per new item: an offer of the source, at its point or the default location', () => {
    const result = run([], [item(1, { lat: 52.51, lng: 13.41 }), item(2)], 0);
    expect(result.created).toBe(2);
    expect(result.events.map((e) => e.type)).toEqual(['listing.created', 'listing.created']);
    const first = result.events[0]!.data as { ownerId: string; kind: string; location: unknown; description: string; tags: string[]; radiusM: number; version: number };
    expect(first).toMatchObject({ ownerId: 'source:src1', kind: 'offer', location: { type: 'Point', coordinates: [13.41, 52.51] }, tags: ['free'], radiusM: 2_000, version: 1 });
    expect(first.description).toBe('About 1\n\nhttps://x.example/1');
    expect((result.events[1]!.data as { location: unknown }).location).toEqual(source.defaultLocation);
  });

  it('changes nothing when the same items come again, updates the listing when an item changes', () => {
    const first = run([], [item(1), item(2)], 0);
    const again = run(first.known, [item(1), item(2)], HOUR);
    expect(again.events).toEqual([]);
    expect(again.unchanged).toBe(2);
    const changed = run(again.known, [item(1, { title: 'Item 1, now cheaper' }), item(2)], 2 * HOUR);
    expect(changed.events).toEqual([expect.objectContaining({ type: 'listing.updated', data: expect.objectContaining({ id: first.known[0]!.listingId, title: 'Item 1, now cheaper', version: 2 }) })]);
  });

  it('keeps the listing when the GUIDs change but the URLs do not', () => {
    const first = run([], [item(1), item(2)], 0);
    const renamed = run(first.known, [item(1, { guid: 'new-1' }), item(2, { guid: 'new-2' })], HOUR);
    expect(renamed.created).toBe(0);
    expect(renamed.events).toEqual([]);
    expect(renamed.known.map((k) => k.guid)).toEqual(['new-1', 'new-2']);
  });

  it('tells items without GUID or URL apart by their content', () => {
    const bare = (title: string): FeedItem => ({ title });
    const first = run([], [bare('Lamp'), bare('Chair')], 0);
    expect(first.created).toBe(2);
    expect(run(first.known, [bare('Lamp'), bare('Chair')], HOUR).events).toEqual([]);
  });

  it('closes an item gone for longer than the TTL, not before; one that comes back gets a new listing', () => {
    const first = run([], [item(1), item(2)], 0);
    const goneSoon = run(first.known, [item(1)], 23 * HOUR);
    expect(goneSoon.events).toEqual([]);
    const goneLong = run(goneSoon.known, [item(1)], 25 * HOUR);
    expect(goneLong.events).toEqual([{ type: 'listing.closed', data: { id: first.known[1]!.listingId, version: 2 } }]);
    expect(run(goneLong.known, [item(1)], 26 * HOUR).events).toEqual([]);
    const back = run(goneLong.known, [item(1), item(2)], 27 * HOUR);
    expect(back.created).toBe(1);
    expect((back.events[0]!.data as { id: string }).id).not.toBe(first.known[1]!.listingId);
  });

  it('gives the same listing id to the same item of the same source (a creation written twice is one listing)', () => {
    expect(run([], [item(1)], 0).known[0]!.listingId).toBe(run([], [item(1)], 5).known[0]!.listingId);
    expect(run([], [item(1)], 0, { ...source, id: 'other' }).known[0]!.listingId).not.toBe(run([], [item(1)], 0).known[0]!.listingId);
  });

  it('skips items without a title or a place, and counts why', () => {
    const result = run([], [{ guid: 'a' }, item(2)], 0, { ...source, defaultLocation: undefined });
    expect(result.events).toEqual([]);
    expect(result.skipped).toEqual({ no_title: 1, no_location: 1 });
  });

  it('closeAll closes every open listing once', () => {
    const first = run([], [item(1), item(2)], 0);
    const closed = closeAll(first.known);
    expect(closed.events.map((e) => e.type)).toEqual(['listing.closed', 'listing.closed']);
    expect(closeAll(closed.known).events).toEqual([]);
  });
});

describe('canonicalUrl', () => {
  it('drops fragments and tracking parameters, sorts the query, refuses other schemes', () => {
    expect(canonicalUrl('https://X.example/a?b=2&utm_medium=rss&a=1#top')).toBe('https://x.example/a?a=1&b=2');
    expect(canonicalUrl('javascript:alert(1)')).toBeUndefined();
  });
});
