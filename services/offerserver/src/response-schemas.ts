/**
 * What the sources API answers, for the OpenAPI document (routes.ts); the contract test
 * (openapi-contract.int.spec.ts) checks the answers against them.
 */
import { json, refusal, unavailable } from '@pushtech/service';
import { z } from 'zod';
import { createSourceBody } from './source-input.ts';

const instant = z.iso.datetime();

/** A source as `sourceView` shows it: its settings (as created, defaults filled in) and its state. */
export const source = z.object({
  id: z.string().meta({ description: 'UUIDv7' }),
  ...createSourceBody.shape,
  createdAt: instant,
  updatedAt: instant,
  state: z.object({
    lastFetchAt: instant.nullable(),
    lastSuccessAt: instant.nullable(),
    consecutiveErrors: z.int().min(0),
    lastError: z.string().nullable(),
    lastStatus: z.int().nullable().meta({ description: 'HTTP status of the last answer (304 included); null before the first or after a network error' }),
    goneCount: z.int().min(0).meta({ description: '404/410 answers in a row' }),
    gone: z.boolean().meta({ description: 'IMPORT_GONE_AFTER 404/410 in a row: not fetched until enabled again or given another URL' }),
    itemsSeen: z.int().min(0),
    itemsCreated: z.int().min(0),
    itemsUpdated: z.int().min(0),
    itemsClosed: z.int().min(0),
    nextDueAt: instant.nullable().meta({ description: 'when it is fetched next; null: never (disabled or gone)' }),
  }),
});

export const sourcesPage = z.object({
  items: z.array(source),
  nextCursor: z.string().nullable().meta({ description: 'pass it as `cursor` for the next page; `null` on the last page' }),
});

export const deleted = z.object({
  id: z.string(),
  deleted: z.literal(true),
  closedListings: z.int().min(0).meta({ description: 'how many of its listings were closed' }),
});

/** Every answer that is not a success, by status; an operation picks those it can give. */
export const refusals = {
  400: json(refusal(['invalid_request']), 'A field, parameter or the path breaks a rule (`errors` names each field and rule): also a path or query that is not valid URL encoding or UTF-8, and a body that is not valid JSON'),
  401: json(refusal(['unauthorized']), 'No bearer token, or a bad one (signature, algorithm, expiry, no `sub`)', ['WWW-Authenticate']),
  403: json(refusal(['forbidden']), 'The token is not an operator\'s (ADMIN_USER_IDS)'),
  404: json(refusal(['not_found']), 'No such source'),
  413: json(refusal(['body_too_large']), 'The body is over 64 KiB'),
  415: json(refusal(['unsupported_media_type']), 'The body is not `application/json`'),
  503: json(unavailable, 'The offer server is starting, or MongoDB or Kafka is away: nothing was changed; retry after `Retry-After`', ['Retry-After']),
} as const;

/** The refusals of an operation. */
export function refused(...statuses: (keyof typeof refusals)[]): Record<string, Record<string, unknown>> {
  return Object.fromEntries(statuses.map((status) => [status, refusals[status]]));
}
