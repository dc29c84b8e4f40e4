/** What storage's command-line tools (rebuild, backup, restore) read: storage's own addresses and names. */
import { oneOf } from '@pushtech/config';
import { logLevels } from '@pushtech/logging';
import { storageConfigSpec } from './config.ts';

const { KAFKA_BROKERS, MONGO_URL, MONGO_DB, LISTINGS_TOPIC, MATCHES_TOPIC, USERS_TOPIC, PROJECTOR_GROUP } = storageConfigSpec;

export const toolConfigSpec = {
  KAFKA_BROKERS, MONGO_URL, MONGO_DB, LISTINGS_TOPIC, MATCHES_TOPIC, USERS_TOPIC, PROJECTOR_GROUP,
  LOG_LEVEL: oneOf(logLevels, { default: 'warn' }),
};
