import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { acceptsOnlyImages, beaconType, TRANSPARENT_GIF } from './beacon-reply.ts';
import {
  BATCH_MAX_BYTES,
  checkBatch,
  checkEvent,
  EVENT_BODY_MAX_BYTES,
  eventFromBody,
  eventFromQuery,
  onlyTooLarge,
  type RuleBreak,
  type ValidEvent,
} from './event-rules.ts';
import { fieldErrors, rejectRequest } from './http-errors.ts';
import { toTrackedEvent } from './tracked-event.ts';
import type { TrackerMetrics } from './tracker-metrics.ts';
import type { TrackerStream } from './tracker-stream.ts';

export interface TrackRoutesOptions {
  /** The stream once the tracker has started (its `running()`: a 503 `unavailable` before). */
  stream: () => TrackerStream;
  metrics: TrackerMetrics;
  /** The envelopes' `source`: `tracker/<TRACKER_ID>`. */
  source: string;
}

type EventRequest = FastifyRequest<{ Params: { type: string }; Querystring: Record<string, unknown> }>;
type Form = 'beacon' | 'json' | 'batch';

/** `GET /t/:type`, `POST /t/:type`, `POST /t/batch`: check, stamp, XADD, then answer. */
export async function trackRoutes(app: FastifyInstance, { stream, metrics, source }: TrackRoutesOptions): Promise<void> {
  // navigator.sendBeacon sends a string as text/plain: it holds JSON all the same.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'ignore'));

  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  /** Stores the events; returns their ids, which the answer carries so a client can trace them. */
  async function store(request: FastifyRequest, events: ValidEvent[], form: Form): Promise<string[]> {
    const receipt = { ip: request.ip, userAgent: request.headers['user-agent'], receivedAt: new Date() };
    const tracked = events.map((event) => toTrackedEvent(event, source, receipt));
    await stream().append(tracked);
    metrics.eventsAccepted.inc({ form }, events.length);
    return tracked.map((event) => event.id);
  }

  function rejectEvent(request: FastifyRequest, reply: FastifyReply, errors: RuleBreak[]): FastifyReply {
    const tooLarge = onlyTooLarge(errors);
    return rejectRequest(request, reply, metrics, tooLarge ? 413 : 400, tooLarge ? 'event_too_large' : 'invalid_event', errors);
  }

  app.get('/t/:type', async (request: EventRequest, reply) => {
    const { type, gif } = beaconType(request.params.type);
    const checked = checkEvent(eventFromQuery(type, request.query));
    if (!checked.ok) return rejectEvent(request, reply, checked.errors);
    const [id] = await store(request, [checked.event], 'beacon');
    reply.header('x-event-id', id);
    if (gif || acceptsOnlyImages(request.headers.accept)) return reply.type('image/gif').send(TRANSPARENT_GIF);
    return reply.code(204).send();
  });

  app.post('/t/batch', { bodyLimit: BATCH_MAX_BYTES }, async (request, reply) => {
    const checked = checkBatch(request.body);
    if (!checked.ok) {
      const status = checked.error.reason === 'body_too_large' ? 413 : 400;
      return rejectRequest(request, reply, metrics, status, 'invalid_batch', [checked.error]);
    }
    const { accepted, rejected } = checked.batch;
    const rejectedBody = rejected.flatMap(({ index, errors }) => fieldErrors(errors).map((e) => ({ index, ...e })));
    if (rejected.length > 0) {
      for (const { errors } of rejected) metrics.eventsRejected.inc({ reason: errors[0]!.reason });
      request.log.info({ rejected: rejectedBody, accepted: accepted.length }, 'batch events rejected');
    }
    if (accepted.length === 0) {
      return reply.code(400).send({
        error: 'invalid_batch',
        errors: [{ field: 'body', rule: 'must hold at least one valid event' }],
        accepted: 0,
        rejected: rejectedBody,
      });
    }
    const ids = await store(request, accepted.map((a) => a.event), 'batch');
    return reply.code(200).send({ accepted: accepted.length, ids, rejected: rejectedBody });
  });

  app.post('/t/:type', { bodyLimit: EVENT_BODY_MAX_BYTES }, async (request: EventRequest, reply) => {
    const checked = checkEvent(eventFromBody(request.params.type, request.query, request.body));
    if (!checked.ok) return rejectEvent(request, reply, checked.errors);
    const [id] = await store(request, [checked.event], 'json');
    return reply.code(204).header('x-event-id', id).send();
  });
}
