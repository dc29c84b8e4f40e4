import { describe, expect, it } from 'vitest';
import { formatDistance, matchNotifications } from './notification.ts';

describe('formatDistance', () => {
  it.each<[number, string]>([
    [0, '10 m'],
    [4, '10 m'],
    [296, '300 m'],
    [300, '300 m'],
    [994, '990 m'],
    [995, '1 km'],
    [1_000, '1 km'],
    [1_234, '1.2 km'],
    [1_250, '1.3 km'],
    [9_949, '9.9 km'],
    [9_950, '10 km'],
    [12_600, '13 km'],
  ])('%d m reads %s', (metres, text) => {
    expect(formatDistance(metres)).toBe(text);
  });
});

describe('matchNotifications', () => {
  const match = { searchId: 's1', offerId: 'o1', searchOwnerId: 'alice', offerOwnerId: 'bob', distanceM: 1_234, searchVersion: 3, offerVersion: 1 };

  it('tells the search\'s owner about the offer and the offer\'s owner about the search, with the distance', () => {
    expect(matchNotifications(match, { search: 'bike', offer: 'City bike, 28"' })).toEqual([
      { userId: 'alice', side: 'search', heading: 'Offer nearby', content: 'An offer for “bike” is 1.2 km away' },
      { userId: 'bob', side: 'offer', heading: 'Someone nearby is looking', content: 'Someone 1.2 km away is looking for “City bike, 28"”' },
    ]);
  });

  it('a title the projection does not have reads "your search" / "your offer"', () => {
    const [forSearch, forOffer] = matchNotifications({ ...match, distanceM: 300 }, {});
    expect(forSearch.content).toBe('An offer for your search is 300 m away');
    expect(forOffer.content).toBe('Someone 300 m away is looking for your offer');
  });
});
