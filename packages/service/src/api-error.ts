/**
 * Coded JSON errors, the same in every service:
 * `{ error, errors: [{ field, rule }] }` for what the client can fix (4xx),
 * `{ error, message }` for what it cannot (5xx, with `Retry-After` on a 503).
 */
import type { z } from 'zod';
import { fieldErrors, type FieldError } from '@pushtech/events';

export type { FieldError };

/**
 * The codes every service uses for the same fault. A service adds codes of its own for faults
 * only it has (`listing_closed`, `invalid_event`, `invalid_image`, …).
 */
export type CommonErrorCode =
  /** The request itself is malformed: URL, query, path parameters, body encoding, a field's value. */
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'unsupported_media_type'
  | 'body_too_large'
  /** 503: a dependency (Kafka, Mongo, Redis) is away; nothing was changed. */
  | 'unavailable'
  /** 503: the service's own capacity is used up (a queue over its mark); retry after `Retry-After`. */
  | 'busy'
  | 'internal_error';

export type ErrorCode = CommonErrorCode | (string & {});

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly errors: FieldError[];
  /** Seconds, sent as `Retry-After`. */
  readonly retryAfterS: number | undefined;
  constructor(status: number, code: ErrorCode, errors: FieldError[], options: { message?: string; retryAfterS?: number } = {}) {
    super(options.message ?? errors.map((e) => `${e.field} ${e.rule}`).join('; '));
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.errors = errors;
    this.retryAfterS = options.retryAfterS;
  }
}

export type InputPart = 'body' | 'query' | 'params' | 'headers';

/** 400 naming each broken rule; `where` stands for the part as a whole (`body`). */
export function invalidInput(error: z.ZodError, where: InputPart): ApiError {
  const errors = fieldErrors(error).map((e) => ({ field: e.field === '(root)' ? where : e.field, rule: e.rule }));
  return new ApiError(400, 'invalid_request', errors);
}

/** Parses `value` with `schema`, or throws a 400 naming each broken rule. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: InputPart): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(result.error, where);
  return result.data;
}

/** A dependency failed: the request was not done, and can be retried. Answered 503 `unavailable`. */
export class UnavailableError extends Error {
  readonly dependency: string;
  constructor(dependency: string, cause?: unknown) {
    const why = cause === undefined ? 'not connected yet' : cause instanceof Error ? cause.message : String(cause);
    super(`${dependency} is not available: ${why}`, { cause });
    this.name = 'UnavailableError';
    this.dependency = dependency;
  }
}
