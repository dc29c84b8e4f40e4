/**
 * The WebSocket endpoint on the service's own HTTP server (ws, `noServer`): an `upgrade` to
 * /ws with a valid token becomes a viewer (viewer.ts); any other upgrade is answered with a JSON
 * refusal and its socket destroyed. Viewers are pinged; one that misses a pong is cut off.
 *
 * An upgraded socket keeps the HTTP server from closing, so the viewers are closed in Fastify's
 * `preClose` (before the server waits for its connections): the runtime's stop closes HTTP first.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Kafka, KafkaAdmin } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { sameOrigin, type AccessCheck } from './access-token.ts';
import { MAX_CLIENT_FRAME_BYTES } from './client-protocol.ts';
import type { KafidxMetrics } from './kafidx-metrics.ts';
import { startTail } from './topic-tail.ts';
import { attachViewer, type Viewer } from './viewer.ts';

export const WEBSOCKET_PATH = '/ws';

export interface ViewerTuning {
  /** A viewer's socket buffer above this holds its messages back in its queue (default 1 MiB). */
  maxBufferedBytes?: number;
  /** How long one Kafka fetch may wait for room in a viewer's full queue (default 250 ms). */
  roomWaitMs?: number;
  /** How often each viewer gets `{kind:'stats'}` (default 1 s). */
  statsIntervalMs?: number;
  /** WebSocket ping interval; a viewer that misses one pong is cut off (default 30 s). */
  pingIntervalMs?: number;
}

export interface ViewerSocketOptions {
  access: AccessCheck;
  /** Kafka for the viewers' reading; throws (the viewer is told) while Kafka is not connected. */
  kafka: () => { client: Kafka; admin: KafkaAdmin };
  maxQueue: number;
  metrics: KafidxMetrics;
  logger: Logger;
  tuning: ViewerTuning;
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

export function serveViewers(http: FastifyInstance, options: ViewerSocketOptions): void {
  const { access, metrics, logger, tuning } = options;
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
        openTail: async (request) => {
          const { client, admin } = options.kafka();
          return startTail({ kafka: client, admin, logger, ...request });
        },
        existingTopics: async () => new Set(await options.kafka().admin.listTopics()),
        maxQueue: options.maxQueue,
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

  http.addHook('preClose', async () => {
    clearInterval(pinger);
    const closing = [...viewers.values()].map((v) => v.close());
    for (const ws of viewers.keys()) ws.close(1001, 'kafidx is stopping');
    await Promise.allSettled(closing);
    for (const ws of viewers.keys()) ws.terminate();
    wss.close();
  });
}
