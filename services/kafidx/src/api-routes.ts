/** `GET /api/topics` for the topic picker, `GET /api/stats` proxied from the stats consumer. */
import type { FastifyInstance } from 'fastify';
import type { KafkaAdmin } from '@pushtech/kafka';
import { ApiError, UnavailableError } from '@pushtech/service';

export interface ApiOptions {
  /** Throws a 503 `unavailable` while Kafka is not connected. */
  admin: () => KafkaAdmin;
  statsUrl: string;
  statsTimeoutMs?: number;
}

/** Topics a developer may watch: every topic but Kafka's internal ones (`__…`). */
export async function listTopics(admin: KafkaAdmin): Promise<{ name: string; partitions: number }[]> {
  const names = (await admin.listTopics()).filter((name) => !name.startsWith('__'));
  if (names.length === 0) return [];
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  return topics.map((t) => ({ name: t.name, partitions: t.partitions.length })).sort((a, b) => a.name.localeCompare(b.name));
}

export async function apiRoutes(app: FastifyInstance, options: ApiOptions): Promise<void> {
  app.get('/api/topics', async () => {
    const admin = options.admin();
    try {
      return { topics: await listTopics(admin) };
    } catch (err) {
      throw new UnavailableError('kafka', err);
    }
  });

  app.get('/api/stats', async (request, reply) => {
    const since = (request.query as Record<string, unknown>).since;
    const target = new URL('/stats', options.statsUrl);
    if (typeof since === 'string') target.searchParams.set('since', since);
    try {
      const answer = await fetch(target, { signal: AbortSignal.timeout(options.statsTimeoutMs ?? 3_000) });
      const body = await answer.text();
      return reply.code(answer.status).type(answer.headers.get('content-type') ?? 'application/json').header('cache-control', 'no-store').send(body);
    } catch (err) {
      request.log.debug({ err: err instanceof Error ? err.message : String(err), statsUrl: options.statsUrl }, 'stats consumer not reachable');
      throw new ApiError(503, 'unavailable', [], { message: `the stats consumer at ${options.statsUrl} did not answer`, retryAfterS: 1 });
    }
  });
}
