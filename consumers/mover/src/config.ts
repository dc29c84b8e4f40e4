import { hostPorts, int, number, string, url, type ConfigOf } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { serviceConfig } from '@pushtech/service';

/** Every variable the mover reads (README has the table, `.env.example` the defaults). */
export const moverConfigSpec = {
  /** HTTP of /healthz, /readyz and /metrics. */
  ...serviceConfig({ port: 8085 }),
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  MONGO_URL: url({ protocols: ['mongodb:', 'mongodb+srv:'], default: 'mongodb://127.0.0.1:27117' }),
  /** The database of storage's projection. */
  MONGO_DB: string({ default: 'pushtech' }),
  EVENTS_TOPIC: string({ default: topics.events.name }),
  LISTINGS_TOPIC: string({ default: topics.listings.name }),
  MOVER_GROUP: string({ default: 'mover' }),
  /** The storage projector's consumer group: the mover reads `listings` from its offsets after loading the projection. */
  PROJECTOR_GROUP: string({ default: 'storage-projector' }),
  /** A listing moves only when the owner is at least this far (metres) from where it is. */
  MIN_MOVE_M: number({ default: 25, min: 0, max: 100_000 }),
  /** At most one move per user per this many milliseconds; the positions in between are coalesced. */
  MIN_INTERVAL_MS: int({ default: 500, min: 0, max: 3_600_000 }),
};

export type MoverConfig = ConfigOf<typeof moverConfigSpec>;
