/**
 * `npm run rebuild -w services/storage [-- --drop-old]`: replays Kafka
 * `listings`, `matches` and `users` into fresh collections and switches the API and
 * the projector to them (see rebuild-projections.ts). Prints progress.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { createKafka, ensureTopics } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { connectMongo } from '@pushtech/mongo';
import { rebuildProjections } from './rebuild-projections.ts';
import { toolConfigSpec } from './tool-config.ts';

const { values } = parseArgs({ options: { 'drop-old': { type: 'boolean', default: false } } });
const config = loadConfigOrExit(toolConfigSpec);
const logger = createLogger('storage-rebuild', config.LOG_LEVEL);
const kafka = createKafka({ clientId: 'storage-rebuild', brokers: config.KAFKA_BROKERS, logger });
const mongo = await connectMongo(config.MONGO_URL, { appName: 'storage-rebuild' });
const say = (line: string) => process.stdout.write(`${line}\n`);

try {
  await ensureTopics(kafka, [
    { ...topics.listings, name: config.LISTINGS_TOPIC },
    { ...topics.matches, name: config.MATCHES_TOPIC },
    { ...topics.users, name: config.USERS_TOPIC },
  ]);
  const result = await rebuildProjections({
    kafka,
    db: mongo.db(config.MONGO_DB),
    topics: { listings: config.LISTINGS_TOPIC, matches: config.MATCHES_TOPIC, users: config.USERS_TOPIC },
    logger,
    dropOld: values['drop-old'],
    progress: (p) => say(`${p.phase}: ${p.handled} / ${p.total} events, ${p.perSecond}/s, ${p.elapsedS} s`),
  });
  say(`rebuilt in ${result.seconds.toFixed(1)} s: ${result.handled} records (${result.applied} applied, ${result.ignored} ignored)`);
  const { current, previous } = result;
  say(`now reading ${Object.values(current).join(', ')} (was ${Object.values(previous).join(', ')}${values['drop-old'] ? ': dropped' : ': kept, drop them when no longer needed'})`);
} catch (err) {
  process.stderr.write(`rebuild failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await mongo.close();
}
