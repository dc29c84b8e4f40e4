import { destination, EARTH_RADIUS_M, type Listing, point, type Point } from '@pushtech/listings';
import { type Random, randomInt, seededRandom, zipf } from '@pushtech/random';

/**
 * The reference workload of DESIGN.md ("Reference workload"), so that figures
 * compare across changes: active listings, half offers and half searches, uniform
 * over a 50 km × 50 km square centred on Berlin, radii uniform in 500–5,000 m,
 * terms from a vocabulary of 5,000 drawn with Zipf(s = 1) frequencies, offers with
 * 2–5 distinct terms, searches with 1–2; a location update moves a following
 * search by a random step of 0–50 m.
 */
export const REFERENCE_WORKLOAD = {
  seed: 20_250_601,
  listings: 1_000_000,
  vocabulary: 5_000,
  zipfS: 1,
  centre: point(13.405, 52.52),
  sideM: 50_000,
  minRadiusM: 500,
  maxRadiusM: 5_000,
  offerTerms: [2, 5],
  searchTerms: [1, 2],
  /** Not fixed by DESIGN: one owner per four listings, half of the searches follow their owner. */
  owners: 250_000,
  followShare: 0.5,
  maxStepM: 50,
} as const;

export type WorkloadOptions = Partial<{
  seed: number;
  listings: number;
  vocabulary: number;
  zipfS: number;
  sideM: number;
  minRadiusM: number;
  maxRadiusM: number;
  owners: number;
  followShare: number;
}>;

/** The word of a vocabulary rank: rank 0 is the most frequent. */
export function vocabularyTerm(rank: number): string {
  return `w${rank.toString(36)}`;
}

/** The listings of the workload, one at a time (a million objects held at once would weigh on the figures). */
export function* referenceListings(options: WorkloadOptions = {}): Generator<Listing> {
  const o = { ...REFERENCE_WORKLOAD, ...options };
  const random = seededRandom(o.seed);
  const nextTerm = zipf(random, o.vocabulary, o.zipfS);
  const [lng0, lat0] = REFERENCE_WORKLOAD.centre.coordinates;
  const degreesLat = o.sideM / ((EARTH_RADIUS_M * Math.PI) / 180);
  const degreesLng = degreesLat / Math.cos((lat0 * Math.PI) / 180);
  for (let i = 0; i < o.listings; i++) {
    const kind = i % 2 === 0 ? 'offer' : 'search';
    const [min, max] = kind === 'offer' ? REFERENCE_WORKLOAD.offerTerms : REFERENCE_WORKLOAD.searchTerms;
    const words = distinctTerms(nextTerm, randomInt(random, min, max));
    const location = point(lng0 + (random() - 0.5) * degreesLng, lat0 + (random() - 0.5) * degreesLat);
    const listing: Listing = {
      id: uuidLike(random),
      kind,
      ownerId: `u${randomInt(random, 0, o.owners - 1)}`,
      title: words.slice(0, 2).join(' '),
      tags: [],
      location,
      radiusM: o.minRadiusM + random() * (o.maxRadiusM - o.minRadiusM),
      follow: kind === 'search' && random() < o.followShare,
      status: 'active',
      imageIds: [],
      version: 1,
    };
    if (words.length > 2) listing.description = words.slice(2).join(' ');
    yield listing;
  }
}

/** A location update: a random step of 0–`maxStepM` metres in a random direction. */
export function moveStep(from: Point, random: Random, maxStepM: number = REFERENCE_WORKLOAD.maxStepM): Point {
  return destination(from, random() * maxStepM, random() * 2 * Math.PI);
}

function distinctTerms(nextTerm: () => number, count: number): string[] {
  const ranks = new Set<number>();
  while (ranks.size < count) ranks.add(nextTerm());
  return [...ranks].map(vocabularyTerm);
}

/**
 * 36 characters shaped like a UUIDv7, so ids weigh what real ones do. Built from
 * char codes: a flat string, as JSON.parse gives, not a rope of concatenations.
 */
function uuidLike(random: Random): string {
  const codes: number[] = [];
  for (let i = 0; i < 32; i++) {
    if (i === 8 || i === 12 || i === 16 || i === 20) codes.push(45); // '-'
    const digit = i === 12 ? 7 : i === 16 ? 8 + Math.floor(random() * 4) : Math.floor(random() * 16);
    codes.push(HEX.charCodeAt(digit));
  }
  return String.fromCharCode(...codes);
}

const HEX = '0123456789abcdef';
