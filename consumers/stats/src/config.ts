import { hostPorts, int, oneOf, port, string, type ConfigOf } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { logLevels } from '@pushtech/logging';

/** Every variable the stats consumer reads (README has the table). */
export const statsConfigSpec = {
  PORT: port({ default: 8087 }),
  HOST: string({ default: '0.0.0.0' }),
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  EVENTS_TOPIC: string({ default: topics.events.name }),
  CONSUMER_GROUP: string({ default: 'stats' }),
  /** Minutes older than this are forgotten; on start the counts are rebuilt from this far back. At most the topic's retention (7 days). */
  RETENTION_HOURS: int({ default: 24, min: 1, max: 168 }),
  LOG_LEVEL: oneOf(logLevels, { default: 'info' }),
};

export type StatsConfig = ConfigOf<typeof statsConfigSpec>;
