import { hostPorts, int, string, url, type ConfigOf } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { serviceConfig } from '@pushtech/service';

const DAY_S = 86_400;

/** Every variable the notify bridge reads (README has the table, `.env.example` the defaults). */
export const bridgeConfigSpec = {
  /** /healthz, /readyz and /metrics only. */
  ...serviceConfig({ port: 8090 }),
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  MONGO_URL: url({ protocols: ['mongodb:', 'mongodb+srv:'], default: 'mongodb://127.0.0.1:27117' }),
  /** The database of storage's projection (titles, devices) and of the bridge's own `notify_pairs`, `notify_user_hours`. */
  MONGO_DB: string({ default: 'pushtech' }),
  MATCHES_TOPIC: string({ default: topics.matches.name }),
  /** Storage's log of devices: who may get a push is held in memory from it. */
  USERS_TOPIC: string({ default: topics.users.name }),
  /** Storage's projector group: the devices are loaded from the projection as of its offsets on USERS_TOPIC. */
  PROJECTOR_GROUP: string({ default: 'storage-projector' }),
  REQUESTS_TOPIC: string({ default: topics.notifyRequests.name }),
  /** The notifier answers here (`responseTopic` of every request); it also names the bridge as a producer for the notifier's fair share. */
  RESPONSE_TOPIC: string({ default: topics.notifyResults.name }),
  BRIDGE_GROUP: string({ default: 'notify-bridge' }),
  /** At most one notification per pair and user in this many seconds (0: every found decision notifies). */
  PAIR_WINDOW_S: int({ default: 3_600, min: 0, max: 30 * DAY_S }),
  /** At most this many notifications per user per clock hour (UTC). */
  USER_MAX_PER_HOUR: int({ default: 20, min: 1, max: 100_000 }),
  /** A match.found decided longer ago than this is not notified any more (0: no limit). */
  MATCH_MAX_AGE_S: int({ default: 600, min: 0, max: 30 * DAY_S }),
};

export type BridgeConfig = ConfigOf<typeof bridgeConfigSpec>;
