/**
 * The tracker's part of the common JSON errors (@pushtech/service): its own codes for what
 * only it refuses (`invalid_event`, `invalid_batch`, `event_too_large`), a 503 `busy` when its
 * stream is over the high-water mark and `unavailable` when Redis does not take the entries,
 * and a counter and a log line for every refusal.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldError } from '@pushtech/events';
import { ApiError, type JsonErrorOptions } from '@pushtech/service';
import type { RejectReason, RuleBreak } from './event-rules.ts';
import type { TrackerMetrics } from './tracker-metrics.ts';
import { StreamFullError, StreamUnavailableError } from './tracker-stream.ts';

/** Seconds a client should wait before sending again. */
export const RETRY_AFTER_FULL_S = 5;
export const RETRY_AFTER_UNAVAILABLE_S = 1;

export function fieldErrors(errors: readonly FieldError[]): FieldError[] {
  return errors.map(({ field, rule }) => ({ field, rule }));
}

/** Counts a refusal by its reason and logs it with every rule broken. */
function countRefusal(request: FastifyRequest, metrics: TrackerMetrics, reason: RejectReason, status: number, error: string, errors: readonly FieldError[]): void {
  metrics.eventsRejected.inc({ reason });
  request.log.info({ status, error, errors: fieldErrors(errors), route: `${request.method} ${request.routeOptions.url ?? request.url}` }, 'event rejected');
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
  countRefusal(request, metrics, errors[0]?.reason ?? 'invalid_event', status, error, errors);
  return reply.code(status).send({ error, errors: fieldErrors(errors) });
}

/** The reason label of a body the common handler refused (not JSON, too large, another content type). */
function bodyReason(error: ApiError): RejectReason {
  if (error.code === 'body_too_large') return 'body_too_large';
  if (error.code === 'unsupported_media_type') return 'unsupported_media_type';
  return 'invalid_body';
}

export function trackerErrors(metrics: TrackerMetrics): JsonErrorOptions {
  return {
    acceptedContentTypes: 'application/json or text/plain (holding JSON)',
    notFoundListsRoutes: true,
    translate(err) {
      if (err instanceof StreamFullError) return new ApiError(503, 'busy', [], { message: err.message, retryAfterS: RETRY_AFTER_FULL_S });
      if (err instanceof StreamUnavailableError) {
        return new ApiError(503, 'unavailable', [], { message: 'the event was not stored: retry later', retryAfterS: RETRY_AFTER_UNAVAILABLE_S });
      }
      // The common rule names application/json only; the tracker's text/plain parser refuses an empty body too.
      if ((err as FastifyError).code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
        return new ApiError(400, 'invalid_request', [{ field: 'body', rule: 'must not be empty when a content type is sent' }]);
      }
      return undefined;
    },
    onRefused(request, error) {
      countRefusal(request, metrics, bodyReason(error), error.status, error.code, error.errors);
    },
    onUnavailable(request, error) {
      metrics.unavailable.inc({ reason: error.code === 'busy' ? 'stream_full' : 'redis_unavailable' });
      request.log.debug({ err: error.message }, `answered 503 ${error.code}`);
    },
  };
}
