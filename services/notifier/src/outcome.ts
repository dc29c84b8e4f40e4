/**
 * What one answer from OneSignal means for a request: the response to send,
 * or a retry and when. Pure: the style of the request, the answer, how often
 * and since when it was tried, the retry policy — no clocks, no I/O.
 *
 * - 429 and 401 are always retried, and so is an attempt that got no answer
 *   (connection refused or reset, timeout): the idempotency key makes a
 *   second call after a lost answer harmless.
 * - Otherwise the style entry of the status class decides; without one, 2xx
 *   is `success` and everything else `failure`.
 * - Retries are bounded by `maxAttempts` and `maxAgeMs`; past them the
 *   request fails with a reason.
 */
import type { NotifyResponse, Operation, StatusClass, Style, StyleEntry } from '@pushtech/contracts';
import type { LogLevel } from '@pushtech/logging';
import { parseRetryAfter, retryDelay, type RetryPolicy } from './backoff.ts';

/** What came back from one attempt. */
export type Answer =
  | { kind: 'http'; status: number; text: string; retryAfter?: string }
  /** No HTTP answer: connection refused or reset, timeout. */
  | { kind: 'error'; message: string };

/** A status class as a metric label: `other` for 1xx/3xx, `none` when there was no answer. */
export type ClassLabel = StatusClass | 'other' | 'none';

interface Common {
  statusClass: ClassLabel;
  status?: number;
  /** The log level of this outcome (`silent`: no line). */
  level: LogLevel;
  /** A 2xx that still carries `errors` (e.g. `invalid_aliases`): sent, but not to everyone. */
  partial?: unknown;
}

export type Decision =
  | (Common & { action: 'respond'; operation: Exclude<Operation, 'retry'>; response: NotifyResponse; reason?: string })
  | (Common & {
    action: 'retry';
    operation: 'retry';
    delayMs: number;
    /** From a `Retry-After` header: nothing should go to OneSignal before it passed. */
    retryAfterMs?: number;
    reason: string;
    /** The retry survives a newer `_connect` of its response topic. */
    ignoreVersion: boolean;
  });

export interface DecideInput {
  request: { uuid: string; versionUtcSeconds: number; style?: Style };
  answer: Answer;
  /** Attempts made, this one included (1 after the first). */
  attempts: number;
  /** When the first attempt was made, ms since the epoch. */
  firstAttemptAt: number;
  now: number;
  policy: RetryPolicy;
  random?: () => number;
}

const ALWAYS_RETRIED = new Set([401, 429]);

export function statusClassOf(answer: Answer): ClassLabel {
  if (answer.kind === 'error') return 'none';
  const hundreds = Math.floor(answer.status / 100);
  return hundreds === 2 ? '2xx' : hundreds === 4 ? '4xx' : hundreds === 5 ? '5xx' : 'other';
}

/** The style entry that governs a class; an attempt without an answer is treated like a 5xx. */
function entryOf(style: Style | undefined, statusClass: ClassLabel): StyleEntry | undefined {
  if (!style) return undefined;
  if (statusClass === 'none') return style['5xx'];
  if (statusClass === 'other') return undefined;
  return style[statusClass];
}

export function logLevelOf(entry: StyleEntry | undefined, operation: Operation): LogLevel {
  if (entry?.silent) return 'silent';
  if (entry?.level) return entry.level;
  return operation === 'copy' || operation === 'success' ? 'trace' : 'warn';
}

/** The body as JSON, or undefined when it is blank or not JSON. */
function tryJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `errors` of a 2xx body, when it has any: OneSignal sent to some targets, not all. */
export function partialErrors(text: string): unknown {
  const body = tryJson(text) as { errors?: unknown } | undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const errors = body.errors;
  if (errors === undefined || errors === null) return undefined;
  if (Array.isArray(errors)) return errors.length > 0 ? errors : undefined;
  if (typeof errors === 'object') return Object.keys(errors).length > 0 ? errors : undefined;
  return errors;
}

function describe(answer: Answer): string {
  return answer.kind === 'error' ? `no answer (${answer.message})` : `status ${answer.status}`;
}

export function decide(input: DecideInput): Decision {
  const { request, answer, attempts, firstAttemptAt, now, policy } = input;
  const statusClass = statusClassOf(answer);
  const entry = entryOf(request.style, statusClass);
  const status = answer.kind === 'http' ? answer.status : undefined;
  const partial = answer.kind === 'http' && statusClass === '2xx' ? partialErrors(answer.text) : undefined;
  const base = { statusClass, status, ...(partial === undefined ? {} : { partial }) };
  const handledAt = now / 1000;
  const failure = (reason: string): Decision => ({
    ...base,
    action: 'respond',
    operation: 'failure',
    level: logLevelOf(entry, 'failure'),
    reason,
    response: { type: 'failure', uuid: request.uuid, versionUtcSeconds: request.versionUtcSeconds, handledAt, reason },
  });

  const forced = answer.kind === 'error' || ALWAYS_RETRIED.has(answer.status);
  const operation: Operation = forced ? 'retry' : entry?.operation ?? (statusClass === '2xx' ? 'success' : 'failure');

  if (operation === 'retry') {
    const retryAfterMs = answer.kind === 'http' ? parseRetryAfter(answer.retryAfter, now) : undefined;
    const delayMs = retryAfterMs ?? retryDelay(attempts, policy, input.random);
    if (attempts >= policy.maxAttempts) return failure(`gave up after ${attempts} attempts: ${describe(answer)}`);
    if (now + delayMs - firstAttemptAt > policy.maxAgeMs) {
      return failure(`gave up after ${attempts} attempts: ${describe(answer)}; the next one would be more than ${policy.maxAgeMs} ms after the first`);
    }
    return {
      ...base,
      action: 'retry',
      operation: 'retry',
      level: logLevelOf(entry, 'retry'),
      delayMs,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      reason: describe(answer),
      ignoreVersion: entry?.ignore_version === true,
    };
  }

  if (operation === 'failure') return failure(describe(answer));

  const response: NotifyResponse = { type: operation, uuid: request.uuid, versionUtcSeconds: request.versionUtcSeconds, handledAt };
  if (operation === 'copy') {
    // Reached only with an HTTP answer: an attempt without one is always retried.
    const { status: code, text } = answer as Extract<Answer, { kind: 'http' }>;
    let body: unknown;
    if (text.trim() === '') body = '';
    else if (entry?.raw) body = text;
    else {
      try {
        body = JSON.parse(text);
      } catch (err) {
        return failure(`copy: the body of the ${code} answer is not JSON (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    response.info = { status: code, body };
  }
  return { ...base, action: 'respond', operation, level: logLevelOf(entry, operation), response };
}
