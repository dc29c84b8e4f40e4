import { hostPorts, int, string, url, type ConfigOf } from '@pushtech/config';
import { serviceConfig } from '@pushtech/service';

/** Every variable kafidx reads (README has the table). */
export const kafidxConfigSpec = {
  /** HTTP and WebSocket. */
  ...serviceConfig({ port: 8086 }),
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  /** The stream carries users' locations: every page, API call and WebSocket needs this token. */
  KAFIDX_TOKEN: string({ minLength: 16 }),
  /** The stats consumer, proxied at /api/stats so the page needs no CORS. */
  STATS_URL: url({ protocols: ['http:', 'https:'], default: 'http://127.0.0.1:8087' }),
  /** Messages waiting for one slow browser; beyond this the oldest are dropped and counted. */
  MAX_QUEUE_PER_CLIENT: int({ default: 1000, min: 1, max: 100_000 }),
};

export type KafidxConfig = ConfigOf<typeof kafidxConfigSpec>;
