/**
 * The WebSocket protocol, one JSON object per frame.
 *
 * client → server
 *   {op:'subscribe', topics:[…], last?: N, filter?: {type?, userId?, text?}}
 *   {op:'pause'} | {op:'resume'}
 *   {op:'filter', type?, userId?, text?}   (or {op:'filter', filter:{…}})
 *
 * server → client
 *   {kind:'subscribed', topics, last}
 *   {kind:'message', topic, partition, offset, timestamp, key, value}
 *   {kind:'stats', rates:{topic: msgs/s}, dropped, queued, paused}
 *   {kind:'error', field, rule}
 */
import { z } from 'zod';
import type { MessageFilter } from './message-filter.ts';

export const MAX_TOPICS = 20;
export const MAX_LAST = 1000;
export const MAX_FILTER_LENGTH = 256;
/** Client frames are small commands; anything larger is refused by the WebSocket server. */
export const MAX_CLIENT_FRAME_BYTES = 16 * 1024;

const ops = ['subscribe', 'pause', 'resume', 'filter'] as const;

// A Kafka topic name: 1–249 of letters, digits, '.', '_' and '-'.
const topicName = z.string('must be a string').regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name (1–249 of A–Z a–z 0–9 . _ -)');

// An empty string or null clears that part of the filter (the page sends its empty inputs).
const filterRule = `must be a string of at most ${MAX_FILTER_LENGTH} characters`;
const filterField = z
  .string(filterRule)
  .max(MAX_FILTER_LENGTH, filterRule)
  .nullable()
  .optional()
  .transform((v) => (v === null || v === undefined || v === '' ? undefined : v));

const filterFields = { type: filterField, userId: filterField, text: filterField };
const filterSchema = z.strictObject(filterFields, 'must be an object with type, userId and/or text');

const subscribeSchema = z.strictObject({
  op: z.literal('subscribe'),
  topics: z
    .array(topicName, 'must be a list of topic names')
    .min(1, 'must name at least one topic')
    .max(MAX_TOPICS, `must name at most ${MAX_TOPICS} topics`),
  last: z.int(`must be an integer between 0 and ${MAX_LAST}`).min(0, `must be an integer between 0 and ${MAX_LAST}`).max(MAX_LAST, `must be an integer between 0 and ${MAX_LAST}`).optional(),
  filter: filterSchema.optional(),
});

const filterOpSchema = z.strictObject({ op: z.literal('filter'), ...filterFields, filter: filterSchema.optional() });
const pauseSchema = z.strictObject({ op: z.literal('pause') });
const resumeSchema = z.strictObject({ op: z.literal('resume') });

export type ClientCommand =
  | { op: 'subscribe'; topics: string[]; last: number; filter: MessageFilter }
  | { op: 'pause' }
  | { op: 'resume' }
  | { op: 'filter'; filter: MessageFilter };

export interface ProtocolError {
  kind: 'error';
  field: string;
  rule: string;
}

export type Parsed = { ok: true; command: ClientCommand } | { ok: false; error: ProtocolError };

function fail(field: string, rule: string): Parsed {
  return { ok: false, error: { kind: 'error', field, rule } };
}

function firstIssue(error: z.ZodError): Parsed {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const at = issue.path.map(String).join('.');
    return fail([at, issue.keys.join(',')].filter(Boolean).join('.'), 'is not a known field');
  }
  return fail(issue.path.map(String).join('.') || '(root)', issue.message);
}

function compact(filter: { type?: string | undefined; userId?: string | undefined; text?: string | undefined }): MessageFilter {
  const out: MessageFilter = {};
  if (filter.type !== undefined) out.type = filter.type;
  if (filter.userId !== undefined) out.userId = filter.userId;
  if (filter.text !== undefined) out.text = filter.text;
  return out;
}

/** Parses one client frame; a bad one becomes `{kind:'error', field, rule}` for the client. */
export function parseClientFrame(data: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return fail('(root)', 'must be valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('(root)', 'must be a JSON object');
  const op = (value as { op?: unknown }).op;
  if (typeof op !== 'string' || !(ops as readonly string[]).includes(op)) return fail('op', `must be one of ${ops.join(', ')}`);

  switch (op) {
    case 'subscribe': {
      const r = subscribeSchema.safeParse(value);
      if (!r.success) return firstIssue(r.error);
      return { ok: true, command: { op: 'subscribe', topics: [...new Set(r.data.topics)], last: r.data.last ?? 0, filter: compact(r.data.filter ?? {}) } };
    }
    case 'filter': {
      const r = filterOpSchema.safeParse(value);
      if (!r.success) return firstIssue(r.error);
      const { op: _op, filter, ...top } = r.data;
      if (filter !== undefined && Object.values(top).some((v) => v !== undefined)) {
        return fail('filter', 'must not be sent together with type, userId or text at the top level');
      }
      return { ok: true, command: { op: 'filter', filter: compact(filter ?? top) } };
    }
    case 'pause': {
      const r = pauseSchema.safeParse(value);
      return r.success ? { ok: true, command: { op: 'pause' } } : firstIssue(r.error);
    }
    default: {
      const r = resumeSchema.safeParse(value);
      return r.success ? { ok: true, command: { op: 'resume' } } : firstIssue(r.error);
    }
  }
}
