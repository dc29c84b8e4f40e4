/**
 * The data schemas of the listing and match events, by event type: what a
 * reader of topics `listings` and `matches` accepts (`parseEventRecord` of
 * @pushtech/events). One definition for storage, the matcher, the mover and
 * the notify bridge.
 */
import { z } from 'zod';

const point = z.object({
  type: z.literal('Point'),
  coordinates: z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]),
});
const version = z.int().min(1);
const id = z.string().min(1);

const listing = z.object({
  id,
  kind: z.enum(['offer', 'search']),
  ownerId: z.string().min(1),
  title: z.string(),
  description: z.string().optional(),
  tags: z.array(z.string()),
  location: point,
  radiusM: z.number().positive(),
  follow: z.boolean(),
  status: z.enum(['active', 'paused', 'closed']),
  imageIds: z.array(z.string()),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  version,
});

export const listingEventSchemas = {
  'listing.created': listing,
  'listing.updated': listing,
  'listing.moved': z.object({ id, location: point, version }),
  'listing.paused': z.object({ id, version }),
  'listing.resumed': z.object({ id, version }),
  'listing.closed': z.object({ id, version }),
} as const satisfies Record<string, z.ZodType>;

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

export const matchEventSchemas = { 'match.found': matchData, 'match.lost': matchData } as const satisfies Record<string, z.ZodType>;
