/**
 * What the API answers, for the OpenAPI document (openapi.ts); the contract test
 * (openapi-contract.int.spec.ts) checks the answers against them.
 */
import { z } from 'zod';
import { PLATFORMS } from '@pushtech/contracts';
import { KINDS, location, STATUSES } from '../listing-input.ts';

const nextCursor = z.string().nullable().meta({ description: 'pass it as `cursor` for the next page; `null` on the last page' });

export const listing = z.object({
  id: z.string().meta({ description: 'UUIDv7' }),
  kind: z.enum(KINDS),
  ownerId: z.string(),
  title: z.string(),
  description: z.string().optional(),
  tags: z.array(z.string()),
  location,
  radiusM: z.number(),
  follow: z.boolean(),
  status: z.enum(STATUSES),
  imageIds: z.array(z.string()),
  expiresAt: z.iso.datetime().optional().meta({ description: 'RFC 3339, UTC; absent: it does not expire' }),
  version: z.int().min(1).meta({ description: '1 when created, bumped by every change' }),
});

export const nearbyPage = z.object({
  items: z.array(listing.extend({ distanceM: z.number().min(0).meta({ description: 'metres from the centre' }) })),
  nextCursor,
});

export const ownerPage = z.object({ items: z.array(listing), nextCursor });

export const matchesPage = z.object({
  items: z.array(z.object({
    pair: z.string().meta({ description: '<searchId>|<offerId>' }),
    listingId: z.string().meta({ description: 'the other listing' }),
    kind: z.enum(KINDS),
    title: z.string().optional(),
    ownerId: z.string(),
    distanceM: z.number().min(0),
    decidedAt: z.iso.datetime().meta({ description: 'when the matcher found the match (RFC 3339)' }),
  })),
});

export const accepted = z.object({
  id: z.string(),
  version: z.int().min(1),
  applied: z.literal(false),
  message: z.string(),
});

export const device = z.object({
  subscriptionId: z.string().meta({ description: 'the OneSignal subscription id, or `wp-…` derived from a Web Push endpoint' }),
  userId: z.string().meta({ description: 'the token\'s user' }),
  platform: z.enum(PLATFORMS),
  registeredAt: z.iso.datetime().meta({ description: 'when this user registered it (RFC 3339)' }),
  webPush: z.object({ endpoint: z.string() }).optional().meta({ description: 'a Web Push subscription: its endpoint' }),
});

export const devicesPage = z.object({ items: z.array(device) });

export const deviceAccepted = z.object({
  subscriptionId: z.string(),
  applied: z.literal(false),
  message: z.string(),
});

export { refusal, unavailable } from '@pushtech/service';
