/**
 * What the API accepts, as zod schemas: each rule's message is the `rule` of
 * the 400 answer (`{ field, rule }`). The OpenAPI document is generated from
 * the same schemas (`openApiSchema` in openapi.ts), so the docs and the checks agree.
 */
import { z } from 'zod';
import { trimmedText } from '@pushtech/service';

export const LIMITS = {
  titleMaxChars: 200,
  descriptionMaxChars: 5_000,
  tagsMax: 20,
  tagMaxChars: 40,
  imageIdsMax: 10,
  imageIdMaxChars: 100,
  radiusMinM: 50,
  radiusMaxM: 100_000,
  pageDefault: 20,
  pageMax: 100,
  qMaxChars: 200,
  idMaxChars: 128,
  cursorMaxChars: 1_000,
} as const;

export const KINDS = ['offer', 'search'] as const;
export const STATUSES = ['active', 'paused', 'closed'] as const;

/** The message for a missing field, or `rule` for a value of the wrong type. */
const typed = (rule: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : rule);

const text = trimmedText;

function between(min: number, max: number, rule = `must be between ${min} and ${max}`) {
  return z.number({ error: typed(`must be a number between ${min} and ${max}`) }).min(min, rule).max(max, rule);
}

/** A query-string number: the text of a number, then the rule on its value. */
function numberParam(min: number, max: number, options: { integer?: boolean } = {}) {
  const rule = `must be ${options.integer ? 'an integer' : 'a number'} between ${min} and ${max}`;
  const number = options.integer ? z.int({ error: typed(rule) }) : z.number({ error: typed(rule) });
  return z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), number.min(min, rule).max(max, rule));
}

export const kind = z.enum(KINDS, { error: typed(`must be one of ${KINDS.join(', ')}`) });
export const status = z.enum(STATUSES, { error: typed(`must be one of ${STATUSES.join(', ')}`) });

/** GeoJSON Point: `{ "type": "Point", "coordinates": [lng, lat] }`. */
export const location = z
  .strictObject(
    {
      type: z.literal('Point', { error: typed('must be "Point"') }),
      coordinates: z.tuple(
        [between(-180, 180, 'must be between -180 and 180 (longitude)'), between(-90, 90, 'must be between -90 and 90 (latitude)')],
        { error: typed('must be [longitude, latitude]') },
      ).meta({
        // OpenAPI 3.0 has no tuples (zod would write `items: anyOf`, which says neither position): the ranges are in words.
        items: { type: 'number', minimum: -180, maximum: 180 },
        description: '[longitude, latitude]: longitude from -180 to 180, latitude from -90 to 90 (degrees)',
      }),
    },
    { error: typed('must be a GeoJSON Point: {"type":"Point","coordinates":[lng,lat]}') },
  )
  .meta({ description: 'GeoJSON Point, coordinates [longitude, latitude] in degrees (WGS 84)', example: { type: 'Point', coordinates: [13.405, 52.52] } });

const title = text(1, LIMITS.titleMaxChars, `must be 1 to ${LIMITS.titleMaxChars} characters`);
const description = text(0, LIMITS.descriptionMaxChars, `must be at most ${LIMITS.descriptionMaxChars} characters`);
const tags = z
  .array(text(1, LIMITS.tagMaxChars, `must be 1 to ${LIMITS.tagMaxChars} characters`), { error: typed('must be an array of strings') })
  .max(LIMITS.tagsMax, `must be at most ${LIMITS.tagsMax} tags`);
const imageIds = z
  .array(text(1, LIMITS.imageIdMaxChars, `must be 1 to ${LIMITS.imageIdMaxChars} characters`), { error: typed('must be an array of strings') })
  .max(LIMITS.imageIdsMax, `must be at most ${LIMITS.imageIdsMax} image ids`);
const radiusM = between(LIMITS.radiusMinM, LIMITS.radiusMaxM).meta({ description: 'metres' });
const follow = z.boolean({ error: typed('must be true or false') });

/** RFC 3339 with an offset, in the future; stored normalised to UTC (`toISOString`). */
const expiresAt = z
  .iso.datetime({ offset: true, error: typed('must be an RFC 3339 date-time, e.g. 2030-01-31T18:00:00Z') })
  .refine((s) => Date.parse(s) > Date.now(), 'must be in the future')
  .transform((s) => new Date(s).toISOString())
  .meta({ description: 'RFC 3339 date-time with an offset (`2030-01-31T18:00:00Z`, `2030-01-31T19:00:00+01:00`); must be in the future (400 `must be in the future` otherwise); answered in UTC. The listing stops matching and being found nearby once it has passed' });

export const createListingBody = z.strictObject(
  {
    kind,
    title,
    description: description.optional(),
    tags: tags.default([]),
    location,
    radiusM,
    follow: follow.default(false),
    imageIds: imageIds.default([]),
    expiresAt: expiresAt.optional(),
  },
  { error: typed('must be a JSON object') },
);
export type CreateListingBody = z.output<typeof createListingBody>;

/** Every field optional; `null` removes `description` or `expiresAt`. */
export const changeListingBody = z
  .strictObject(
    {
      title: title.optional(),
      description: description.nullable().optional(),
      tags: tags.optional(),
      location: location.optional(),
      radiusM: radiusM.optional(),
      follow: follow.optional(),
      imageIds: imageIds.optional(),
      expiresAt: expiresAt.nullable().optional(),
      status: status.optional(),
    },
    { error: typed('must be a JSON object') },
  )
  .refine((body) => Object.keys(body).length > 0, 'must change at least one field')
  .meta({ minProperties: 1 });
export type ChangeListingBody = z.output<typeof changeListingBody>;

export const listingIdParams = z.strictObject({
  id: z.string().min(1, 'must not be empty').max(LIMITS.idMaxChars, `must be at most ${LIMITS.idMaxChars} characters`),
});

const cursor = z.string({ error: typed('must be a cursor from a previous page') }).max(LIMITS.cursorMaxChars, 'must be a cursor from a previous page')
  .meta({ description: `opaque: the \`nextCursor\` of the previous page of the same query, passed as it is (at most ${LIMITS.cursorMaxChars} characters); any other string is refused (400 naming \`cursor\`)` });
const limit = numberParam(1, LIMITS.pageMax, { integer: true }).default(LIMITS.pageDefault)
  .meta({ default: LIMITS.pageDefault, description: `page size, 1 to ${LIMITS.pageMax} (default ${LIMITS.pageDefault})` });

export const nearbyQuery = z.strictObject({
  kind,
  lng: numberParam(-180, 180).meta({ description: 'longitude of the centre' }),
  lat: numberParam(-90, 90).meta({ description: 'latitude of the centre' }),
  radiusM: numberParam(LIMITS.radiusMinM, LIMITS.radiusMaxM).default(5_000).meta({ default: 5_000, description: 'metres (default 5000)' }),
  q: z.string({ error: typed('must be a string') }).max(LIMITS.qMaxChars, `must be at most ${LIMITS.qMaxChars} characters`).optional()
    .meta({ description: 'words every listing found must contain (title, description, tags; case and diacritics ignored)' }),
  limit,
  cursor: cursor.optional(),
});
export type NearbyQuery = z.output<typeof nearbyQuery>;

export const ownerQuery = z.strictObject({
  ownerId: z.string({ error: typed('must be a string') }).min(1, 'must not be empty').max(LIMITS.idMaxChars, `must be at most ${LIMITS.idMaxChars} characters`),
  status: status.optional(),
  limit,
  cursor: cursor.optional(),
});
export type OwnerQuery = z.output<typeof ownerQuery>;
