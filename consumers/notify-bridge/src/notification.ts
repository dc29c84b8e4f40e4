/**
 * What a match tells each of its two owners: pure text, no I/O.
 *
 * - the search's owner: "An offer for “<search title>” is 300 m away"
 * - the offer's owner: "Someone 300 m away is looking for “<offer title>”"
 *
 * A title the projection does not have (yet) reads "your search" / "your offer".
 */
import type { MatchData } from '@pushtech/contracts';

export type Side = 'search' | 'offer';

export interface Notification {
  userId: string;
  side: Side;
  heading: string;
  content: string;
}

/** "10 m" … "990 m" (to 10 m), "1 km", "1.2 km" … "9.9 km" (to 100 m), "10 km" and on (to 1 km). */
export function formatDistance(metres: number): string {
  const m = Math.max(0, metres);
  if (m < 995) return `${Math.max(10, Math.round(m / 10) * 10)} m`;
  if (m < 9_950) return `${(Math.round(m / 100) / 10).toString()} km`;
  return `${Math.round(m / 1_000)} km`;
}

const quoted = (title: string | undefined, fallback: string) => (title === undefined ? fallback : `“${title}”`);

/** The two notifications of a found match: one for each owner. */
export function matchNotifications(match: MatchData, titles: { search?: string; offer?: string }): [Notification, Notification] {
  const distance = formatDistance(match.distanceM);
  return [
    {
      userId: match.searchOwnerId,
      side: 'search',
      heading: 'Offer nearby',
      content: `An offer for ${quoted(titles.search, 'your search')} is ${distance} away`,
    },
    {
      userId: match.offerOwnerId,
      side: 'offer',
      heading: 'Someone nearby is looking',
      content: `Someone ${distance} away is looking for ${quoted(titles.offer, 'your offer')}`,
    },
  ];
}
