/**
 * Topic `listings`: the log of record for listings (kept forever: storage's
 * projections are rebuilt from it). Key: the listing id, so one listing's
 * events stay in order; `subject` the listing id too. Value: a CloudEvents
 * envelope whose `type` and `data` form a `ListingEvent` (@pushtech/listings,
 * where `evolveListing` folds them).
 *
 * Written by storage (every command's event), the mover (`listing.moved` of
 * listings that follow their owner) and the offer server (the listings of
 * imported items, owner `source:<sourceId>`); read by storage's projector, the matcher
 * and the mover.
 */
import { z } from 'zod';
import type { ListingEvent } from '@pushtech/listings';
import { eventTopic, type DataSchemas } from '../event-topic.ts';

export const pointSchema = z.object({
  type: z.literal('Point'),
  coordinates: z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]),
});
const version = z.int().min(1);
const id = z.string().min(1);

export const listingSchema = z.object({
  id,
  kind: z.enum(['offer', 'search']),
  ownerId: z.string().min(1),
  title: z.string(),
  description: z.string().optional(),
  tags: z.array(z.string()),
  location: pointSchema,
  radiusM: z.number().positive(),
  follow: z.boolean(),
  status: z.enum(['active', 'paused', 'closed']),
  imageIds: z.array(z.string()),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  version,
});

export const listingEventSchemas = {
  'listing.created': listingSchema,
  'listing.updated': listingSchema,
  'listing.moved': z.object({ id, location: pointSchema, version }),
  'listing.paused': z.object({ id, version }),
  'listing.resumed': z.object({ id, version }),
  'listing.closed': z.object({ id, version }),
} as const satisfies DataSchemas<ListingEvent>;

export const listingsTopic = eventTopic({
  spec: { name: 'listings', partitions: 6, retentionMs: -1 },
  writers: ['storage', 'mover', 'offerserver'],
  readers: ['storage (projector)', 'matcher', 'mover'],
  dataSchemas: listingEventSchemas,
  key: (event: ListingEvent) => event.data.id,
});
