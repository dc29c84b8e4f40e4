import { STREAM_FIELD, type TrackedEvent } from '@pushtech/contracts';
import { validateEnvelope } from '@pushtech/events';

/**
 * Turns a tracker stream entry (field `e` = the envelope as JSON) into a
 * `TrackedEvent`, or into the reason it cannot be one. Never throws: a bad
 * entry goes to the DLQ and must not stop the entries after it.
 */

export type ParsedEntry =
  | { ok: true; event: TrackedEvent }
  | { ok: false; reason: string; raw: string };

/** Larger envelopes go to the DLQ: Kafka refuses records over its `max.message.bytes` (1 MiB by default). */
export const MAX_ENTRY_BYTES = 512 * 1024;
/** The DLQ record keeps at most this much of a bad entry. */
export const MAX_RAW_IN_DLQ = 64 * 1024;

const CONTEXT_STRINGS = ['userAgent', 'clientTime', 'userId', 'anonymousId'] as const;

/** `fields` as Redis returns them: `[name, value, name, value, …]`. */
export function parseEntry(fields: readonly string[]): ParsedEntry {
  const at = fields.findIndex((name, i) => i % 2 === 0 && name === STREAM_FIELD);
  if (at < 0 || at + 1 >= fields.length) {
    return { ok: false, reason: `missing field "${STREAM_FIELD}"`, raw: clip(JSON.stringify(pairs(fields))) };
  }
  const raw = fields[at + 1]!;
  if (Buffer.byteLength(raw) > MAX_ENTRY_BYTES) {
    return { ok: false, reason: `entry larger than ${MAX_ENTRY_BYTES} bytes`, raw: clip(raw) };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { ok: false, reason: `bad JSON: ${(err as Error).message}`, raw: clip(raw) };
  }
  const envelope = validateEnvelope(value);
  if (!envelope.ok) {
    const rules = envelope.errors.map((e) => `${e.field} ${e.rule}`).join('; ');
    return { ok: false, reason: `invalid envelope: ${rules}`, raw: clip(raw) };
  }
  const problem = contextProblem(envelope.value.data.context);
  if (problem !== undefined) return { ok: false, reason: `invalid envelope: ${problem}`, raw: clip(raw) };
  return { ok: true, event: envelope.value as TrackedEvent };
}

function contextProblem(context: unknown): string | undefined {
  if (context === undefined) return 'data.context is missing';
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return 'data.context must be an object';
  const c = context as Record<string, unknown>;
  if (typeof c.ip !== 'string' || c.ip === '') return 'data.context.ip must be a non-empty string';
  for (const name of CONTEXT_STRINGS) {
    if (c[name] !== undefined && typeof c[name] !== 'string') return `data.context.${name} must be a string`;
  }
  return undefined;
}

function pairs(fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

function clip(raw: string): string {
  return raw.length > MAX_RAW_IN_DLQ ? raw.slice(0, MAX_RAW_IN_DLQ) : raw;
}
