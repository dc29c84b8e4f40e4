import { hostPorts, int, string, type ConfigOf } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { serviceConfig } from '@pushtech/service';

/** Every variable the stats consumer reads (README has the table). */
export const statsConfigSpec = {
  ...serviceConfig({ port: 8087 }),
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  EVENTS_TOPIC: string({ default: topics.events.name }),
  CONSUMER_GROUP: string({ default: 'stats' }),
  /** Minutes older than this are forgotten; on start the counts are rebuilt from this far back. At most the topic's retention (7 days). */
  RETENTION_HOURS: int({ default: 24, min: 1, max: 168 }),
};

export type StatsConfig = ConfigOf<typeof statsConfigSpec>;
