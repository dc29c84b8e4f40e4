/**
 * Every answer that is not a success is JSON: `{error, errors: [{field, rule}]}`
 * for bad input (4xx), `{error, message}` for 503/500.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldError } from '@pushtech/events';
import { discardRefusedBody } from '@pushtech/http';
import type { RejectReason, RuleBreak } from './event-rules.ts';
import type { TrackerMetrics } from './tracker-metrics.ts';
import { StreamFullError, StreamUnavailableError } from './tracker-stream.ts';

/** Seconds a client should wait before sending again. */
export const RETRY_AFTER_FULL_S = 5;
export const RETRY_AFTER_UNAVAILABLE_S = 1;

export const ROUTES = 'GET /t/:type, GET /t/:type.gif, POST /t/:type, POST /t/batch, GET /healthz, GET /readyz, GET /metrics';

export function fieldErrors(errors: readonly FieldError[]): FieldError[] {
  return errors.map(({ field, rule }) => ({ field, rule }));
}

/** Answers a 4xx naming each broken rule; counts and logs the refusal. */
export function rejectRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  metrics: TrackerMetrics,
  status: number,
  error: string,
  errors: readonly RuleBreak[],
): FastifyReply {
  const reason: RejectReason = errors[0]?.reason ?? 'invalid_event';
  metrics.eventsRejected.inc({ reason });
  request.log.info({ status, error, errors: fieldErrors(errors), route: `${request.method} ${request.routeOptions.url ?? request.url}` }, 'event rejected');
  return reply.code(status).send({ error, errors: fieldErrors(errors) });
}

/** Fastify's own body-reading errors, as rule breaks. */
function bodyRuleBreak(err: FastifyError, request: FastifyRequest): { status: number; error: string; ruleBreak: RuleBreak } | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        error: 'body_too_large',
        ruleBreak: { field: 'body', rule: `must be at most ${request.routeOptions.bodyLimit ?? '?'} bytes`, reason: 'body_too_large' },
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, error: 'invalid_body', ruleBreak: { field: 'body', rule: 'must be valid JSON', reason: 'invalid_body' } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        error: 'invalid_body',
        ruleBreak: { field: 'body', rule: 'must not be empty when a content type is sent', reason: 'invalid_body' },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        error: 'unsupported_media_type',
        ruleBreak: { field: 'content-type', rule: 'must be application/json or text/plain (holding JSON)', reason: 'unsupported_media_type' },
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: 400,
        error: 'invalid_body',
        ruleBreak: { field: 'content-length', rule: 'must match the body length', reason: 'invalid_body' },
      };
    default:
      return undefined;
  }
}

/** Fastify's `frameworkErrors`: errors raised before routing (a malformed URL) skip the error handler. */
export function answerBadUrl(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  reply.code(400).send({ error: 'bad_request', errors: [{ field: 'path', rule: `must be a valid URL: ${error.message}` }] });
}

export function setJsonErrors(app: FastifyInstance, metrics: TrackerMetrics): void {
  app.setNotFoundHandler((_request, reply) => {
    return reply.code(404).send({
      error: 'not_found',
      errors: [{ field: 'path', rule: `must be one of ${ROUTES}` }],
    });
  });

  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    // nginx, still sending a body refused as too large, would answer 502 instead of the 413.
    await discardRefusedBody(err, request);
    if (err instanceof StreamFullError) {
      metrics.unavailable.inc({ reason: 'stream_full' });
      request.log.debug({ err: err.message }, 'answered 503: stream full');
      return reply.code(503).header('retry-after', String(RETRY_AFTER_FULL_S)).send({ error: 'stream_full', message: err.message });
    }
    if (err instanceof StreamUnavailableError) {
      metrics.unavailable.inc({ reason: 'redis_unavailable' });
      request.log.debug({ err: err.message }, 'answered 503: redis unavailable');
      return reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_UNAVAILABLE_S))
        .send({ error: 'redis_unavailable', message: 'the event was not stored: retry later' });
    }
    const bodyError = bodyRuleBreak(err, request);
    if (bodyError) return rejectRequest(request, reply, metrics, bodyError.status, bodyError.error, [bodyError.ruleBreak]);
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'bad_request', errors: [{ field: 'request', rule: err.message }] });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal_error', message: 'the request failed; it was logged' });
  });
}
