/** What the API answers, for the OpenAPI document only (answers are not re-validated). */
import { z } from 'zod';
import { PLATFORMS } from '@pushtech/contracts';
import { KINDS, STATUSES } from '../listing-input.ts';

const point = z.object({ type: z.literal('Point'), coordinates: z.tuple([z.number(), z.number()]).meta({ description: '[longitude, latitude]' }) });

export const listing = z.object({
  id: z.string().meta({ description: 'UUIDv7' }),
  kind: z.enum(KINDS),
  ownerId: z.string(),
  title: z.string(),
  description: z.string().optional(),
  tags: z.array(z.string()),
  location: point,
  radiusM: z.number(),
  follow: z.boolean(),
  status: z.enum(STATUSES),
  imageIds: z.array(z.string()),
  expiresAt: z.string().optional().meta({ description: 'RFC 3339, UTC' }),
  version: z.int().meta({ description: 'bumped by every change' }),
});

export const nearbyPage = z.object({
  items: z.array(listing.extend({ distanceM: z.number().meta({ description: 'metres from the centre' }) })),
  nextCursor: z.string().nullable(),
});

export const ownerPage = z.object({ items: z.array(listing), nextCursor: z.string().nullable() });

export const matchesPage = z.object({
  items: z.array(z.object({
    pair: z.string().meta({ description: '<searchId>|<offerId>' }),
    listingId: z.string().meta({ description: 'the other listing' }),
    kind: z.enum(KINDS),
    title: z.string().optional(),
    ownerId: z.string(),
    distanceM: z.number(),
    decidedAt: z.string().meta({ description: 'when the matcher found the match (RFC 3339)' }),
  })),
});

export const accepted = z.object({
  id: z.string(),
  version: z.int(),
  applied: z.literal(false),
  message: z.string(),
});

export const device = z.object({
  subscriptionId: z.string().meta({ description: 'the OneSignal subscription id, or `wp-…` derived from a Web Push endpoint' }),
  userId: z.string().meta({ description: 'the token\'s user' }),
  platform: z.enum(PLATFORMS),
  registeredAt: z.string().meta({ description: 'when this user registered it (RFC 3339)' }),
  webPush: z.object({ endpoint: z.string() }).optional().meta({ description: 'a Web Push subscription: its endpoint' }),
});

export const devicesPage = z.object({ items: z.array(device) });

export const deviceAccepted = z.object({
  subscriptionId: z.string(),
  applied: z.literal(false),
  message: z.string(),
});

export const error = z.object({
  error: z.string().meta({ description: 'invalid_request, unauthorized, forbidden, not_found, conflict, listing_closed, …' }),
  errors: z.array(z.object({ field: z.string(), rule: z.string() })).optional(),
  message: z.string().optional(),
});

export function responseSchema(schema: z.ZodType, description: string): Record<string, unknown> {
  return { description, ...(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'output' }) as Record<string, unknown>) };
}
