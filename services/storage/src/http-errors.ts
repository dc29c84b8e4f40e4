/**
 * Every answer that is not a success is JSON:
 * `{ error, errors: [{ field, rule }] }` for what the client can fix (4xx),
 * `{ error, message }` for 503/500. Route handlers throw `ApiError`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { fieldErrors, type FieldError } from '@pushtech/events';
import { discardRefusedBody } from '@pushtech/http';

export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'listing_closed'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'unavailable'
  | 'internal_error';

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly errors: FieldError[];
  constructor(status: number, code: ErrorCode, errors: FieldError[], message?: string) {
    super(message ?? errors.map((e) => `${e.field} ${e.rule}`).join('; '));
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

/** 400 naming each broken rule; `body` stands for the request body as a whole. */
export function invalidRequest(error: z.ZodError, where: 'body' | 'query' | 'params'): ApiError {
  const errors = fieldErrors(error).map((e) => ({ field: e.field === '(root)' ? where : e.field, rule: e.rule }));
  return new ApiError(400, 'invalid_request', errors);
}

/** Parses `value` with `schema`, or throws a 400 naming each broken rule. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidRequest(result.error, where);
  return result.data;
}

/** Errors of a dependency: the request was not done, and can be retried. */
export class UnavailableError extends Error {
  readonly dependency: 'kafka' | 'mongo';
  constructor(dependency: 'kafka' | 'mongo', cause: unknown) {
    super(`${dependency} is not available: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'UnavailableError';
    this.dependency = dependency;
  }
}

function isMongoError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.startsWith('Mongo');
}

/** Fastify's own body-reading errors as `{status, error, field, rule}`. */
function bodyError(err: FastifyError, request: FastifyRequest): [number, ErrorCode, FieldError] | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [400, 'invalid_request', { field: 'body', rule: 'must be valid JSON' }];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [400, 'invalid_request', { field: 'body', rule: 'must not be empty when content-type is application/json' }];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, 'unsupported_media_type', { field: 'content-type', rule: 'must be application/json' }];
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, 'body_too_large', { field: 'body', rule: `must be at most ${request.routeOptions.bodyLimit ?? '?'} bytes` }];
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return [400, 'invalid_request', { field: 'content-length', rule: 'must match the body length' }];
    default:
      return undefined;
  }
}

/** Fastify's `frameworkErrors`: errors raised before routing (a malformed URL) skip the error handler. */
export function answerBadUrl(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  reply.code(400).send({ error: 'invalid_request', errors: [{ field: 'path', rule: `must be a valid URL: ${error.message}` }] });
}

export function setJsonErrors(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({
      error: 'not_found',
      errors: [{ field: 'path', rule: `no route ${request.method} ${request.url.split('?')[0]}: see /docs` }],
    });
  });

  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    // nginx, still sending a body refused as too large, would answer 502 instead of the 413.
    await discardRefusedBody(err, request);
    if (err instanceof ApiError) {
      if (err.status >= 500) request.log.warn({ err: err.message }, 'request failed');
      return reply.code(err.status).send({ error: err.code, errors: err.errors });
    }
    if (err instanceof UnavailableError || isMongoError(err) || isKafkaError(err)) {
      const dependency = err instanceof UnavailableError ? err.dependency : isMongoError(err) ? 'mongo' : 'kafka';
      request.log.warn({ err: err.message, dependency }, 'answered 503: dependency unavailable');
      return reply.code(503).header('retry-after', '1').send({ error: 'unavailable', message: `${dependency} is not available: nothing was changed, retry later` });
    }
    const known = bodyError(err, request);
    if (known) return reply.code(known[0]).send({ error: known[1], errors: [known[2]] });
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'invalid_request', errors: [{ field: 'request', rule: err.message }] });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal_error', message: 'the request failed; it was logged' });
  });
}

function isKafkaError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.startsWith('Kafka');
}
