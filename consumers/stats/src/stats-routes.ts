/** `GET /stats[?since=RFC 3339]`: the minute counts as JSON. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '@pushtech/service';
import { minuteLabel, type MinuteCounts } from './minute-counts.ts';

const query = z.object({
  since: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp, e.g. 2026-11-24T12:00:00Z' }).optional(),
});

/** `counts` throws a 503 `unavailable` until the reader runs. */
export function statsRoutes(app: FastifyInstance, options: { counts: () => MinuteCounts; retentionHours: number }): void {
  app.get('/stats', async (request, reply) => {
    const { since } = parseInput(query, request.query, 'query');
    const counts = options.counts();
    return reply.header('cache-control', 'no-store').send({
      retentionHours: options.retentionHours,
      windowStart: minuteLabel(counts.windowStart()),
      minutes: counts.minutes(since === undefined ? undefined : Date.parse(since)),
    });
  });
}
