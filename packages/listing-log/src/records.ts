/**
 * Records of topic `listings` as storage (and the mover) write them, for the
 * services that read the log (the matcher, the mover): a
 * CloudEvents envelope whose `type` and `data` form a `ListingEvent`. Checked
 * on the way in; a record that fails is logged and counted, never applied.
 * (The same rules as storage's `parseListingRecord`, which is not exported.)
 */
import { z } from 'zod';
import { fieldErrors, validateEnvelope, type FieldError } from '@pushtech/events';
import type { ListingEvent } from '@pushtech/listings';

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

const dataSchemas: Record<string, z.ZodType> = {
  'listing.created': listing,
  'listing.updated': listing,
  'listing.moved': z.object({ id, location: point, version }),
  'listing.paused': z.object({ id, version }),
  'listing.resumed': z.object({ id, version }),
  'listing.closed': z.object({ id, version }),
};

export type ParsedListingRecord = { ok: true; event: ListingEvent } | { ok: false; errors: FieldError[] };

export function parseListingRecord(value: Buffer | null): ParsedListingRecord {
  if (value === null) return { ok: false, errors: [{ field: 'value', rule: 'must not be empty' }] };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, errors: [{ field: 'value', rule: 'must be JSON' }] };
  }
  const envelope = validateEnvelope(json);
  if (!envelope.ok) return envelope;
  const { type, data } = envelope.value;
  const schema = dataSchemas[type];
  if (schema === undefined) return { ok: false, errors: [{ field: 'type', rule: `must be one of ${Object.keys(dataSchemas).join(', ')}` }] };
  const checked = schema.safeParse(data);
  if (!checked.success) return { ok: false, errors: fieldErrors(checked.error, 'data') };
  return { ok: true, event: { type, data: checked.data } as ListingEvent };
}
