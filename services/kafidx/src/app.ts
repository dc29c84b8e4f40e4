import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { createMetricsRegistry, healthPlugin } from '@pushtech/http';
import { createKafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { createAccessCheck, sameOrigin } from './access-token.ts';
import { apiRoutes } from './api-routes.ts';
import { MAX_CLIENT_FRAME_BYTES } from './client-protocol.ts';
import type { KafidxConfig } from './config.ts';
import { createKafidxMetrics } from './kafidx-metrics.ts';
import { pageRoutes } from './page-routes.ts';
import { startTail, type KafkaAdmin } from './topic-tail.ts';
import { attachViewer, type Viewer } from './viewer.ts';

/** Paths that answer without the token: probes and Prometheus. */
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
export const WEBSOCKET_PATH = '/ws';

export interface Tuning {
  /** A viewer's socket buffer above this holds its messages back in its queue (default 1 MiB). */
  maxBufferedBytes?: number;
  /** How long one Kafka fetch may wait for room in a viewer's full queue (default 250 ms). */
  roomWaitMs?: number;
  /** How often each viewer gets `{kind:'stats'}` (default 1 s). */
  statsIntervalMs?: number;
  /** WebSocket ping interval; a viewer that misses one pong is cut off (default 30 s). */
  pingIntervalMs?: number;
}

export interface KafidxApp {
  http: FastifyInstance;
  url: string;
  /** Closes every viewer (and its consumer), then the HTTP server and the admin client. */
  close(): Promise<void>;
}

function refuseUpgrade(socket: Duplex, status: 401 | 403 | 404, error: string, field: string, rule: string): void {
  const body = JSON.stringify({ error, errors: [{ field, rule }] });
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status];
  // The answer is written, then the socket destroyed (as ws' own abortHandshake does).
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `${status === 401 ? 'WWW-Authenticate: Bearer realm="kafidx"\r\n' : ''}Connection: close\r\n\r\n${body}`,
  );
}

export async function startApp(config: KafidxConfig, logger: Logger, tuning: Tuning = {}): Promise<KafidxApp> {
  const registry = createMetricsRegistry('kafidx');
  const metrics = createKafidxMetrics(registry);
  const access = createAccessCheck(config.KAFIDX_TOKEN);
  const kafka = createKafka({ clientId: 'kafidx', brokers: config.KAFKA_BROKERS, logger, retries: 2 });

  // One admin client for topic lists, offsets and /readyz; connected on first use, again after a failure.
  const adminClient = kafka.admin();
  let adminConnected: Promise<KafkaAdmin> | undefined;
  const admin = () => {
    adminConnected ??= adminClient.connect().then(() => adminClient, (err: unknown) => {
      adminConnected = undefined;
      throw err;
    });
    return adminConnected;
  };

  const http = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  await http.register(healthPlugin, {
    registry,
    checks: { kafka: async () => (await admin()).describeCluster() },
  });

  http.addHook('onRequest', async (request, reply) => {
    if (OPEN_PATHS.has(request.url.split('?')[0]!)) return;
    const verdict = access.check(request.headers, request.url);
    if (verdict.ok) return;
    metrics.refused.inc({ kind: 'http' });
    request.log.info({ url: request.url.split('?')[0], rule: verdict.rule }, 'refused: no valid token');
    return reply.code(401).header('www-authenticate', 'Bearer realm="kafidx"').send({ error: 'unauthorized', errors: [{ field: 'token', rule: verdict.rule }] });
  });
  http.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ error: 'not_found', errors: [{ field: 'path', rule: `must be one of GET /, GET /api/topics, GET /api/stats, ${WEBSOCKET_PATH} (WebSocket), GET /healthz, GET /readyz, GET /metrics` }] }));
  await http.register(pageRoutes, { access });
  await http.register(apiRoutes, { admin, statsUrl: config.STATS_URL });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });
  const viewers = new Map<WebSocket, Viewer>();
  const alive = new WeakSet<WebSocket>();

  http.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const path = (request.url ?? '/').split('?')[0];
    if (path !== WEBSOCKET_PATH) return refuseUpgrade(socket, 404, 'not_found', 'path', `must be ${WEBSOCKET_PATH}`);
    const verdict = access.check(request.headers, request.url);
    if (!verdict.ok) {
      metrics.refused.inc({ kind: 'websocket' });
      logger.info({ rule: verdict.rule }, 'refused WebSocket: no valid token');
      return refuseUpgrade(socket, 401, 'unauthorized', 'token', verdict.rule);
    }
    if (verdict.via === 'cookie' && !sameOrigin(request.headers)) {
      metrics.refused.inc({ kind: 'websocket' });
      logger.warn({ origin: request.headers.origin }, 'refused WebSocket: cookie sent from another origin');
      return refuseUpgrade(socket, 403, 'forbidden', 'origin', 'must be the kafidx page itself when the token comes from the cookie');
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      alive.add(ws);
      ws.on('pong', () => alive.add(ws));
      ws.on('error', (err) => logger.debug({ err: err.message }, 'viewer socket error'));
      const viewer = attachViewer({
        socket: ws,
        openTail: async (request) => startTail({ kafka, admin: await admin(), logger, ...request }),
        existingTopics: async () => new Set(await (await admin()).listTopics()),
        maxQueue: config.MAX_QUEUE_PER_CLIENT,
        maxBufferedBytes: tuning.maxBufferedBytes ?? 1024 * 1024,
        roomWaitMs: tuning.roomWaitMs ?? 250,
        statsIntervalMs: tuning.statsIntervalMs ?? 1_000,
        metrics,
        logger,
      });
      viewers.set(ws, viewer);
      metrics.viewers.inc();
      ws.once('close', () => {
        viewers.delete(ws);
        metrics.viewers.dec();
        viewer.close().catch((err: unknown) => logger.warn({ err }, 'closing viewer failed'));
      });
    });
  });

  const pinger = setInterval(() => {
    for (const ws of viewers.keys()) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, tuning.pingIntervalMs ?? 30_000);

  const url = await http.listen({ host: config.HOST, port: config.PORT });
  logger.info({ url }, 'listening');

  let closed: Promise<void> | undefined;
  return {
    http,
    url,
    close() {
      closed ??= (async () => {
        clearInterval(pinger);
        const closing = [...viewers.values()].map((v) => v.close());
        for (const ws of viewers.keys()) ws.close(1001, 'kafidx is stopping');
        await Promise.allSettled(closing);
        for (const ws of viewers.keys()) ws.terminate();
        wss.close();
        await http.close();
        await adminClient.disconnect();
      })();
      return closed;
    },
  };
}
