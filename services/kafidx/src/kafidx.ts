/**
 * kafidx as a service: Kafka is its dependency (an admin connection for topic lists, offsets and
 * /readyz), connected with the runtime's back-off while it already listens. The page, the API and
 * the WebSocket endpoint are on the runtime's Fastify; the page answers from the start, the API
 * and the viewers' reading answer 503 `unavailable` until Kafka is connected. Every route but the
 * probes needs KAFIDX_TOKEN. `index.ts` runs it; the tests start the same.
 */
import type { FastifyInstance } from 'fastify';
import { createKafka, pingKafka, type Kafka, type KafkaAdmin } from '@pushtech/kafka';
import { ApiError, defineService, sendApiError, type Dependencies, type ServiceContext } from '@pushtech/service';
import { createAccessCheck, type AccessCheck } from './access-token.ts';
import { apiRoutes } from './api-routes.ts';
import { kafidxConfigSpec, type KafidxConfig } from './config.ts';
import { createKafidxMetrics, type KafidxMetrics } from './kafidx-metrics.ts';
import { pageRoutes } from './page-routes.ts';
import { serveViewers, type ViewerTuning } from './websocket.ts';

/** Kafka: the client the viewers' tails read with, and the admin connection they and the API share. */
export interface KafidxKafka {
  client: Kafka;
  admin: KafkaAdmin;
}

/** Paths that answer without the token: probes and Prometheus. */
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

async function connectKafka({ config, logger }: ServiceContext<KafidxConfig>): Promise<KafidxKafka> {
  const client = createKafka({ clientId: 'kafidx', brokers: config.KAFKA_BROKERS, logger, retries: 2 });
  const admin = client.admin();
  await admin.connect();
  return { client, admin };
}

function kafidxDependencies(ctx: ServiceContext<KafidxConfig>): Dependencies<{ kafka: KafidxKafka }> {
  return {
    kafka: {
      connect: () => connectKafka(ctx),
      check: ({ admin }) => pingKafka(admin),
      close: ({ admin }) => admin.disconnect(),
    },
  };
}

/** Every request but the probes' shows the token, or is answered 401 `unauthorized`. */
function requireToken(http: FastifyInstance, access: AccessCheck, metrics: KafidxMetrics): void {
  http.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (OPEN_PATHS.has(path)) return;
    const verdict = access.check(request.headers, request.url);
    if (verdict.ok) return;
    metrics.refused.inc({ kind: 'http' });
    request.log.info({ url: path, rule: verdict.rule }, 'refused: no valid token');
    reply.header('www-authenticate', 'Bearer realm="kafidx"');
    return sendApiError(reply, new ApiError(401, 'unauthorized', [{ field: 'token', rule: verdict.rule }]));
  });
}

export function kafidxService(tuning: ViewerTuning = {}) {
  return defineService({
    name: 'kafidx',
    config: kafidxConfigSpec,
    errors: () => ({ notFoundListsRoutes: true }),
    dependencies: kafidxDependencies,
    start: (_ctx, { kafka }): KafidxKafka => kafka,
    async routes(http, { config, logger, registry }, running) {
      const metrics = createKafidxMetrics(registry);
      const access = createAccessCheck(config.KAFIDX_TOKEN);
      requireToken(http, access, metrics);
      await http.register(pageRoutes, { access });
      await http.register(apiRoutes, { admin: () => running().admin, statsUrl: config.STATS_URL });
      serveViewers(http, { access, kafka: running, maxQueue: config.MAX_QUEUE_PER_CLIENT, metrics, logger, tuning });
    },
  });
}

export const kafidx = kafidxService();
