/**
 * `./pushtech backup --to DIR` and `./pushtech restore --from DIR` (also `npm run backup -w
 * services/storage -- …`): backup.ts's backup and restore, with storage's variables (tool-config.ts).
 *
 *   backup  --to DIR [--topics listings,matches,users]   a new folder <UTC stamp> in DIR; prints its path
 *   restore --from BACKUP | --latest DIR                  the Mongo projection (storage stopped), then
 *           [--kafka] [--no-mongo]                        with --kafka the topics too (only into empty ones)
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@pushtech/config';
import { contracts } from '@pushtech/contracts';
import { createKafka } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { connectMongo } from '@pushtech/mongo';
import { backup, latestBackup, restore } from './backup.ts';
import { toolConfigSpec } from './tool-config.ts';

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    to: { type: 'string' }, topics: { type: 'string' },
    from: { type: 'string' }, latest: { type: 'string' }, kafka: { type: 'boolean', default: false }, 'no-mongo': { type: 'boolean', default: false },
  },
});
const fail = (line: string): never => {
  process.stderr.write(`${line}\n`);
  process.exit(64);
};
if (command !== 'backup' && command !== 'restore') fail('usage: backup-command.ts backup --to DIR [--topics a,b] | restore (--from BACKUP | --latest DIR) [--kafka] [--no-mongo]');
if (command === 'backup' && values.to === undefined) fail('backup: --to DIR is required (where the backup folder goes)');
if (command === 'restore' && (values.from === undefined) === (values.latest === undefined)) fail('restore: give --from BACKUP or --latest DIR');

const config = loadConfigOrExit(toolConfigSpec);
const logger = createLogger(`storage-${command}`, config.LOG_LEVEL);
const kafka = createKafka({ clientId: `storage-${command}`, brokers: config.KAFKA_BROKERS, logger });
const mongo = await connectMongo(config.MONGO_URL, { appName: `storage-${command}` });
const projectorTopics = [config.LISTINGS_TOPIC, config.MATCHES_TOPIC, config.USERS_TOPIC];
const say = (line: string) => process.stdout.write(`${line}\n`);

try {
  const db = mongo.db(config.MONGO_DB);
  if (command === 'backup') {
    const topics = values.topics?.split(',').filter(Boolean) ?? projectorTopics;
    const { dir, manifest } = await backup({ kafka, db, to: values.to!, topics, projectorGroup: config.PROJECTOR_GROUP, projectorTopics, logger });
    const records = Object.values(manifest.kafka).flat().reduce((n, p) => n + p.records, 0);
    say(`backup ${dir}: ${Object.values(manifest.mongo.collections).reduce((n, c) => n + c, 0)} documents in ${Object.keys(manifest.mongo.collections).length} collections, ${records} records of ${topics.join(', ')}`);
  } else {
    const from = values.from ?? (await latestBackup(values.latest!)) ?? fail(`restore: no complete backup in ${values.latest}`);
    const manifest = await restore({
      from, logger,
      ...(values['no-mongo'] ? {} : { mongo: { db, kafka } }),
      ...(values.kafka ? { kafka: { kafka, specs: Object.values(contracts).map((c) => c.spec) } } : {}),
    });
    say(`restored ${from} (taken ${manifest.time})${values['no-mongo'] ? '' : `: ${config.MONGO_DB} and the projector group ${manifest.projector.group}`}${values.kafka ? `; topics ${Object.keys(manifest.kafka).join(', ')}` : ''}`);
  }
} catch (err) {
  process.stderr.write(`${command} failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await mongo.close();
}
