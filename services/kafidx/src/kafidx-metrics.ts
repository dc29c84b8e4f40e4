import { Counter, Gauge, type Registry } from 'prom-client';

export type DropReason = 'slow_client' | 'paused';

export function createKafidxMetrics(registry: Registry) {
  const registers = [registry];
  return {
    viewers: new Gauge({ name: 'kafidx_viewers', help: 'open WebSocket connections', registers }),
    consumed: new Counter({ name: 'kafidx_messages_consumed_total', help: 'messages read from Kafka for viewers (each viewer reads its own)', registers }),
    sent: new Counter({ name: 'kafidx_messages_sent_total', help: 'messages written to viewers', registers }),
    dropped: new Counter({
      name: 'kafidx_messages_dropped_total',
      help: 'messages a viewer did not get because its queue was full (slow_client: the browser did not keep up; paused: it was paused meanwhile)',
      labelNames: ['reason'] as const,
      registers,
    }),
    badFrames: new Counter({ name: 'kafidx_client_errors_total', help: 'client frames answered with {kind:"error"}', registers }),
    refused: new Counter({
      name: 'kafidx_unauthorized_total',
      help: 'requests and WebSocket upgrades refused for a missing or wrong token',
      labelNames: ['kind'] as const,
      registers,
    }),
  };
}

export type KafidxMetrics = ReturnType<typeof createKafidxMetrics>;
