/**
 * Notifier throughput: requests per second from Kafka through the notifier to
 * the OneSignal stand-in, with the rate limit off. N requests (default 5,000)
 * are produced at once to a fresh topic while a notifier (the service
 * `src/index.ts` runs, in this process) consumes it; the clock runs from
 * the produce until the stand-in has received all of them, and — for the
 * end-to-end figure — until all their responses are back on Kafka.
 *
 *   node bench/notify.ts [--requests 5000] [--client onesignal-node|fetch|both] [--concurrency 16]
 *                        [--users 1000] [--skip-pipeline] [--web]
 *
 * --web: once more with Web Push on (fetch client): each request's user has one browser
 * subscription in the `devices` projection, so each request is an OneSignal call and a Web Push
 * call (encrypted, VAPID-signed) to a local HTTPS push service (in this process):
 * notifier_web_push_per_s, until the push service has all of them.
 *
 * Then, unless --skip-pipeline, location_to_push_p99_ms with the whole
 * pipeline and `--users` moving users (bench/location-to-push.ts).
 *
 * Needs the local Kafka and MongoDB (KAFKA_BROKERS, MONGO_URL; default the stack's).
 * The stand-in runs as its own process (services/onesignal-standin/src/index.ts),
 * as in the demo, so it does not share this process's CPU. Fresh topics and
 * database, deleted at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { notifyResultsTopic, topics } from '@pushtech/contracts';
import { createKafka, createProducer, ensureTopics, type Kafka } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { connectMongo, type Db } from '@pushtech/mongo';
import { freePort, readTopic, stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { notifier } from '../services/notifier/src/app.ts';
import { benchLocationToPush } from './location-to-push.ts';
import { loadNotifierConfig } from '../services/notifier/src/config.ts';
import { pushBrowser } from '../services/notifier/src/fixtures/push-browser.ts';
import { startPushService, type PushService } from '../services/notifier/src/fixtures/push-service.ts';
import { pushRequest } from '../services/notifier/src/fixtures/requests.ts';
import { generateVapidKeys } from '../services/notifier/src/web-push.ts';

export interface NotifyBenchOptions {
  requests?: number;
  client?: 'onesignal-node' | 'fetch';
  concurrency?: number;
  /** Also a run with Web Push on. */
  web?: boolean;
  log?: (line: string) => void;
}

const USERS = 5_000;

/** One browser subscription per user of the run, as storage's projection holds them. */
async function registerBrowsers(db: Db, users: number, pushService: PushService): Promise<void> {
  const browser = pushBrowser(); // one key pair for all: encryption is per call anyway
  const now = new Date().toISOString();
  await db.collection('devices').insertMany(Array.from({ length: users }, (_, i) => ({
    _id: `wp-bench-${i}`, subscriptionId: `wp-bench-${i}`, userId: `user-${i}`, platform: 'web', state: 'active',
    webPush: browser.subscription(pushService.endpoint(`u${i}`)), registeredAt: now, registrationId: '0', eventIds: [], updatedAt: now,
  })) as never[]);
}

/** Figure name → value. */
export type Figures = Record<string, number>;

const APP_ID = '2f4c5b1e-8a9d-4e6f-b3c2-1d0e9f8a7b6c';
const API_KEY = 'bench-key';
const logger = createLogger('bench-notify', 'error');

async function startStandinProcess(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const entry = fileURLToPath(new URL('../services/onesignal-standin/src/index.ts', import.meta.url));
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, PORT: String(port), ONESIGNAL_APP_ID: APP_ID, ONESIGNAL_API_KEY: API_KEY, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(`${url}/_standin/stats`)).ok ? true : undefined), 'the stand-in', 20_000);
  return { url, child };
}

async function standinStats(url: string): Promise<{ calls: number; created: number; byStatus: Record<string, number> }> {
  return (await fetch(`${url}/_standin/stats`)).json() as Promise<{ calls: number; created: number; byStatus: Record<string, number> }>;
}

/** One run: a fresh notifier on fresh topics; `requests` produced at once. */
async function run(kafka: Kafka, standinUrl: string, requests: number, client: 'onesignal-node' | 'fetch', concurrency: number, log: (line: string) => void, pushService?: PushService): Promise<{ seconds: number; e2eSeconds: number }> {
  const { kafkaBrokers, mongoUrl } = stackAddresses();
  const names = { requests: uniqueName('bench-notify.requests-'), responses: uniqueName('bench-notify.results-'), db: uniqueName('benchnotify'), group: uniqueName('bench-notifier-') };
  await ensureTopics(kafka, [{ ...topics.notifyRequests, name: names.requests }, notifyResultsTopic.specFor(names.responses)]);
  const producer = await createProducer(kafka);
  const responses = await readTopic(kafka, names.responses, logger);
  const vapid = generateVapidKeys();
  if (pushService) {
    const mongo = await connectMongo(mongoUrl, { appName: 'bench-notify' });
    await registerBrowsers(mongo.db(names.db), Math.min(requests, USERS), pushService);
    await mongo.close();
  }
  const config = loadNotifierConfig({
    ...(pushService ? { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:bench@example.net', USERS_TOPIC: uniqueName('bench-users') } : {}),
    KAFKA_BROKERS: kafkaBrokers.join(','), MONGO_URL: mongoUrl, MONGO_DB: names.db,
    REQUESTS_TOPIC: names.requests, NOTIFIER_GROUP: names.group,
    ONESIGNAL_API_ROOT: standinUrl, ONESIGNAL_APP_ID: APP_ID, ONESIGNAL_API_KEY: API_KEY, ONESIGNAL_CLIENT: client,
    RATE_LIMIT_PER_S: '0', SEND_CONCURRENCY: String(concurrency), LOG_LEVEL: 'error',
  });
  const service = await notifier.start({ config, logger, listen: false });
  try {
    await (await service.ready).intake.joined;
    await fetch(`${standinUrl}/_standin/requests`, { method: 'DELETE' });
    const style = { '2xx': { operation: 'success' }, '4xx': { operation: 'failure' }, '5xx': { operation: 'retry' } };
    const batch = Array.from({ length: requests }, (_, i) => pushRequest({ responseTopic: names.responses, userIds: [`user-${i % USERS}`], style }));
    const pushedBefore = pushService?.calls().length ?? 0;

    const started = performance.now();
    for (let i = 0; i < batch.length; i += 1_000) {
      await producer.send(names.requests, batch.slice(i, i + 1_000).map((r) => ({ key: r.uuid, value: JSON.stringify(r) })));
    }
    await waitFor(async () => ((await standinStats(standinUrl)).calls >= requests ? true : undefined), `${requests} calls at the stand-in`, 600_000, 5);
    if (pushService) await waitFor(() => (pushService.calls().length - pushedBefore >= requests ? true : undefined), `${requests} calls at the push service`, 600_000, 5);
    const seconds = (performance.now() - started) / 1000;
    await responses.waitForCount(requests, 600_000);
    const e2eSeconds = (performance.now() - started) / 1000;

    const stats = await standinStats(standinUrl);
    if (stats.created !== requests) throw new Error(`the stand-in created ${stats.created} notifications for ${requests} requests (${JSON.stringify(stats.byStatus)})`);
    log(`  ${client}${pushService ? ' + web push' : ''}: ${requests} requests: all at the stand-in${pushService ? ' and the push service' : ''} after ${seconds.toFixed(2)} s, all responses after ${e2eSeconds.toFixed(2)} s`);
    return { seconds, e2eSeconds };
  } finally {
    await service.stop();
    await responses.stop();
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [names.requests, names.responses] }).catch(() => {});
    await admin.disconnect();
    const mongo = await connectMongo(mongoUrl, { appName: 'bench-notify' });
    await mongo.db(names.db).dropDatabase().catch(() => {});
    await mongo.close();
  }
}

export async function benchNotify(options: NotifyBenchOptions = {}): Promise<Figures> {
  const requests = options.requests ?? 5_000;
  const concurrency = options.concurrency ?? 16;
  const log = options.log ?? (() => {});
  const clients = options.client ? [options.client] : (['onesignal-node', 'fetch'] as const);
  const { kafkaBrokers } = stackAddresses();
  const kafka = createKafka({ clientId: 'bench-notify', brokers: kafkaBrokers, logger: logger.child({}, { level: 'fatal' }) });
  const standin = await startStandinProcess();
  const figures: Figures = {};
  try {
    log(`notifier: ${requests} requests, rate limit off, SEND_CONCURRENCY=${concurrency}, stand-in at ${standin.url}`);
    for (const client of clients) {
      await run(kafka, standin.url, Math.min(500, requests), client, concurrency, () => {}); // warm-up
      const { seconds, e2eSeconds } = await run(kafka, standin.url, requests, client, concurrency, log);
      const suffix = client === 'onesignal-node' ? '' : `_${client}`;
      figures[`notifier_req_per_s${suffix}`] = Math.round(requests / seconds);
      figures[`notifier_e2e_req_per_s${suffix}`] = Math.round(requests / e2eSeconds);
    }
    if (options.web) {
      const pushService = await startPushService();
      try {
        await run(kafka, standin.url, Math.min(500, requests), 'fetch', concurrency, () => {}, pushService); // warm-up
        const { seconds } = await run(kafka, standin.url, requests, 'fetch', concurrency, log, pushService);
        figures.notifier_web_push_per_s = Math.round(requests / seconds);
      } finally {
        await pushService.close();
      }
    }
  } finally {
    standin.child.kill('SIGTERM');
    await once(standin.child, 'exit');
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '5000' },
      client: { type: 'string', default: 'both' },
      concurrency: { type: 'string', default: '16' },
      users: { type: 'string', default: '1000' },
      'skip-pipeline': { type: 'boolean', default: false },
      web: { type: 'boolean', default: false },
    },
  });
  const client = values.client === 'both' ? undefined : values.client as 'onesignal-node' | 'fetch';
  const log = (line: string) => console.log(line);
  const figures = await benchNotify({ requests: Number(values.requests), client, concurrency: Number(values.concurrency), web: values.web, log });
  if (!values['skip-pipeline']) Object.assign(figures, await benchLocationToPush({ pairs: Math.ceil(Number(values.users) / 2), log }));
  console.log('');
  for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value}`);
  process.exit(0);
}
