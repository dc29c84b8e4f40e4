/** `GET /stats[?since=RFC 3339]`: the minute counts as JSON. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { minuteLabel, type MinuteCounts } from './minute-counts.ts';

const query = z.object({
  since: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp, e.g. 2026-11-24T12:00:00Z' }).optional(),
});

export async function statsRoutes(app: FastifyInstance, options: { counts: MinuteCounts; retentionHours: number }): Promise<void> {
  app.get('/stats', async (request, reply) => {
    const parsed = query.safeParse(request.query);
    if (!parsed.success) {
      return reply.code(400).send({
        error: 'bad_request',
        errors: parsed.error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || 'query', rule: issue.message })),
      });
    }
    const since = parsed.data.since === undefined ? undefined : Date.parse(parsed.data.since);
    return reply.header('cache-control', 'no-store').send({
      retentionHours: options.retentionHours,
      windowStart: minuteLabel(options.counts.windowStart()),
      minutes: options.counts.minutes(since),
    });
  });
}
