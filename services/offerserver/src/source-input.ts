/**
 * What the sources API accepts, as zod schemas: each rule's message is the `rule` of the 400
 * answer (`{ field, rule }`).
 */
import { z } from 'zod';
import { trimmedText } from '@pushtech/service';

export const SOURCE_KINDS = ['feed', 'lemmy', 'json'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const SOURCE_LIMITS = {
  refreshMinS: 60,
  refreshMaxS: 7 * 86_400,
  radiusMinM: 50,
  radiusMaxM: 100_000,
  ttlMinH: 1,
  ttlMaxH: 24 * 365,
  tagsMax: 20,
  tagMaxChars: 40,
  urlMaxChars: 2_000,
  pathMaxChars: 200,
} as const;

const L = SOURCE_LIMITS;

/** The message for a missing field, or `rule` for a value of the wrong type. */
const typed = (rule: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : rule);

function intBetween(min: number, max: number) {
  const rule = `must be an integer between ${min} and ${max}`;
  return z.int({ error: typed(rule) }).min(min, rule).max(max, rule);
}

const httpUrl = z
  .string({ error: typed('must be an http(s) URL') })
  .meta({ description: 'an absolute http(s) URL with a host' })
  .max(L.urlMaxChars, `must be at most ${L.urlMaxChars} characters`)
  .refine((raw) => {
    try {
      const url = new URL(raw);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

const point = z.strictObject(
  {
    type: z.literal('Point', { error: typed('must be "Point"') }),
    coordinates: z.tuple(
      [
        z.number({ error: typed('must be a number') }).min(-180, 'must be between -180 and 180 (longitude)').max(180, 'must be between -180 and 180 (longitude)'),
        z.number({ error: typed('must be a number') }).min(-90, 'must be between -90 and 90 (latitude)').max(90, 'must be between -90 and 90 (latitude)'),
      ],
      { error: typed('must be [longitude, latitude]') },
    ).meta({ description: '[longitude −180…180, latitude −90…90] (OpenAPI 3.0 cannot state the second item\'s own range)' }),
  },
  { error: typed('must be a GeoJSON Point: {"type":"Point","coordinates":[lng,lat]}') },
);

const tags = z
  .array(
    trimmedText(1, L.tagMaxChars, `must be 1 to ${L.tagMaxChars} characters`),
    { error: typed('must be an array of strings') },
  )
  .max(L.tagsMax, `must be at most ${L.tagsMax} tags`);

const path = z
  .string({ error: typed('must be a path such as $.items[*].title or items.0.title') })
  .min(1, 'must not be empty')
  .max(L.pathMaxChars, `must be at most ${L.pathMaxChars} characters`);

/** Generic JSON: where the item array is and, inside each item, where each field is. */
export const mappingSchema = z.strictObject(
  {
    items: path.optional().meta({ description: 'path of the item array in the document (default: the document itself)' }),
    id: path.optional(),
    title: path,
    description: path.optional(),
    price: path.optional(),
    image: path.optional(),
    lat: path.optional(),
    lng: path.optional(),
    url: path.optional(),
  },
  { error: typed('must be an object of paths: {items?, id?, title, description?, price?, image?, lat?, lng?, url?}') },
);
export type Mapping = z.output<typeof mappingSchema>;

const fields = {
  kind: z.enum(SOURCE_KINDS, { error: typed(`must be one of ${SOURCE_KINDS.join(', ')}`) }),
  url: httpUrl,
  refreshSeconds: intBetween(L.refreshMinS, L.refreshMaxS),
  defaultLocation: point,
  radiusM: intBetween(L.radiusMinM, L.radiusMaxM),
  tags,
  ttlHours: intBetween(L.ttlMinH, L.ttlMaxH),
  enabled: z.boolean({ error: typed('must be true or false') }),
  mapping: mappingSchema,
};

const mappingRule = (body: { kind?: SourceKind; mapping?: Mapping }) => (body.kind === 'json') === (body.mapping !== undefined);
const mappingIssue = { path: ['mapping'], message: 'is required for kind json, and only for it' };

export const createSourceBody = z
  .strictObject(
    {
      kind: fields.kind,
      url: fields.url,
      refreshSeconds: fields.refreshSeconds.default(900),
      defaultLocation: fields.defaultLocation.optional(),
      radiusM: fields.radiusM.default(5_000),
      tags: fields.tags.default([]),
      ttlHours: fields.ttlHours.default(72),
      enabled: fields.enabled.default(true),
      mapping: fields.mapping.optional(),
    },
    { error: typed('must be a JSON object') },
  )
  .refine(mappingRule, mappingIssue)
  .meta({ description: '`mapping` is required for kind json, and only for it' });
export type CreateSourceBody = z.output<typeof createSourceBody>;

/** Every field optional; `defaultLocation: null` removes it. The kind cannot change. */
export const changeSourceBody = z
  .strictObject(
    {
      url: fields.url.optional(),
      refreshSeconds: fields.refreshSeconds.optional(),
      defaultLocation: fields.defaultLocation.nullable().optional(),
      radiusM: fields.radiusM.optional(),
      tags: fields.tags.optional(),
      ttlHours: fields.ttlHours.optional(),
      enabled: fields.enabled.optional(),
      mapping: fields.mapping.optional(),
    },
    { error: typed('must be a JSON object') },
  )
  .refine((body) => Object.keys(body).length > 0, 'must change at least one field')
  .meta({ description: 'At least one field; `defaultLocation: null` removes it; `mapping` only for sources of kind json' });
export type ChangeSourceBody = z.output<typeof changeSourceBody>;

export const SOURCE_ID_MAX_CHARS = 100;

export const sourceIdParams = z.strictObject({
  id: z.string().min(1, 'must not be empty').max(SOURCE_ID_MAX_CHARS, `must be at most ${SOURCE_ID_MAX_CHARS} characters`),
});
