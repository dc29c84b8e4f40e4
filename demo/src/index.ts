// The local demo: runs every service, opens a marketplace of simulated users
// (each with a phone; half look for something while they walk around Berlin's
// centre, half offer something), sends their locations and page views through
// the tracker, and prints what arrives in Kafka `events`, the matches as they
// are found and lost, and the pushes that reach the OneSignal stand-in.
//
// DEMO_USERS users each report a location every second; DEMO_SECONDS bounds
// the run (0 = until Ctrl-C).
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostPorts, int, loadConfigOrExit, url } from '@pushtech/config';
import { topics, type EnrichedEvent } from '@pushtech/contracts';
import { createKafka, ensureTopics, parseJson, runConsumer } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { seededRandom } from '@pushtech/random';
import { signToken } from '@pushtech/auth';
import { createUsers, pageView, walk } from './city.ts';
import { closeMarketplace, createMarketplace, marketplaceOpened, openMarketplace, watchMatches, watchPushes } from './marketplace.ts';
import { importedTitles, registerFeed, removeFeed, startLocalFeed } from './offer-feed.ts';
import { startService, stopAll } from './processes.ts';
import { spkiHash, startLocalNginx, type LocalNginx } from '../../docker-compose/local-nginx.ts';

const config = loadConfigOrExit({
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  REDIS_URL: url({ protocols: ['redis:'], default: 'redis://127.0.0.1:16379' }),
  DEMO_USERS: int({ min: 1, max: 10_000, default: 30 }),
  DEMO_SECONDS: int({ min: 0, default: 0 }),
  TRACKER_PORT: int({ min: 1, max: 65_535, default: 8081 }),
  KAFKASTORE_PORT: int({ min: 1, max: 65_535, default: 8082 }),
  KAFIDX_PORT: int({ min: 1, max: 65_535, default: 8086 }),
  STATS_PORT: int({ min: 1, max: 65_535, default: 8087 }),
  STORAGE_PORT: int({ min: 1, max: 65_535, default: 8083 }),
  IMAGESERVER_PORT: int({ min: 1, max: 65_535, default: 8091 }),
  OFFERSERVER_PORT: int({ min: 1, max: 65_535, default: 8096 }),
  WEBSITE_PORT: int({ min: 1, max: 65_535, default: 8095 }),
});

const PORTS = { matcher: 8084, mover: 8085, notifier: 8088, standin: 8089, bridge: 8090 };

const say = (line: string) => process.stdout.write(`${line}\n`);
const logger = createLogger('demo', 'silent');
const entry = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const trackerUrl = `http://127.0.0.1:${config.TRACKER_PORT}`;
const common = { KAFKA_BROKERS: config.KAFKA_BROKERS.join(','), REDIS_URL: config.REDIS_URL };

// Public addresses from a few countries and two phones, so enrichment has something to show.
const clients = [
  { ip: '81.169.145.105', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' },
  { ip: '212.58.244.20', userAgent: 'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36' },
  { ip: '8.8.8.8', userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15' },
];

async function waitReady(name: string, base: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`${name} did not become ready at ${base}/readyz within 60 s`);
}

async function main(): Promise<void> {
  startService('tracker', entry('services/tracker/src/index.ts'), { ...common, PORT: String(config.TRACKER_PORT), TRACKER_ID: 'demo', TRUST_PROXY: 'true' });
  startService('kafkastore', entry('services/kafkastore/src/index.ts'), { ...common, PORT: String(config.KAFKASTORE_PORT), CONSUMER_NAME: 'demo' });
  const statsUrl = `http://127.0.0.1:${config.STATS_PORT}`;
  const kafidxUrl = `http://127.0.0.1:${config.KAFIDX_PORT}`;
  const kafidxToken = randomBytes(18).toString('base64url');
  startService('stats', entry('consumers/stats/src/index.ts'), { ...common, PORT: String(config.STATS_PORT) });
  startService('kafidx', entry('services/kafidx/src/index.ts'), { ...common, PORT: String(config.KAFIDX_PORT), KAFIDX_TOKEN: kafidxToken, STATS_URL: statsUrl });
  const storageUrl = `http://127.0.0.1:${config.STORAGE_PORT}`;
  const standinUrl = `http://127.0.0.1:${PORTS.standin}`;
  const jwtSecret = randomBytes(32).toString('base64url');
  startService('storage', entry('services/storage/src/index.ts'), { ...common, PORT: String(config.STORAGE_PORT), JWT_SECRET: jwtSecret });
  const imageserverUrl = `http://127.0.0.1:${config.IMAGESERVER_PORT}`;
  startService('imageserver', entry('services/imageserver/src/index.ts'), {
    PORT: String(config.IMAGESERVER_PORT), JWT_SECRET: jwtSecret, IMAGES_DIR: entry('.stack/demo-images'),
  });
  const offerserverUrl = `http://127.0.0.1:${config.OFFERSERVER_PORT}`;
  // The demo's feed is on 127.0.0.1: the offer server must be allowed to fetch local addresses.
  startService('offerserver', entry('services/offerserver/src/index.ts'), {
    ...common, PORT: String(config.OFFERSERVER_PORT), JWT_SECRET: jwtSecret, FETCH_ALLOW_PRIVATE: 'true', IMPORT_POLL_MS: '500',
  });
  const websiteUrl = `http://127.0.0.1:${config.WEBSITE_PORT}`;
  startService('website', entry('services/website/src/index.ts'), { PORT: String(config.WEBSITE_PORT), JWT_SECRET: jwtSecret, TRUST_PROXY: 'true' });
  startService('matcher', entry('consumers/matcher/src/service/main.ts'), { ...common, PORT: String(PORTS.matcher) });
  startService('mover', entry('consumers/mover/src/index.ts'), { ...common, PORT: String(PORTS.mover) });
  startService('notify-bridge', entry('consumers/notify-bridge/src/index.ts'), { ...common, PORT: String(PORTS.bridge) });
  startService('onesignal-standin', entry('services/onesignal-standin/src/index.ts'), { PORT: String(PORTS.standin) });
  startService('notifier', entry('services/notifier/src/index.ts'), {
    ...common, PORT: String(PORTS.notifier), ONESIGNAL_API_ROOT: standinUrl,
    ONESIGNAL_APP_ID: randomUUID(), ONESIGNAL_API_KEY: randomBytes(24).toString('base64url'),
  });
  const ready: [string, string][] = [
    ['tracker', trackerUrl], ['kafkastore', `http://127.0.0.1:${config.KAFKASTORE_PORT}`], ['stats', statsUrl], ['kafidx', kafidxUrl],
    ['storage', storageUrl], ['imageserver', imageserverUrl], ['matcher', `http://127.0.0.1:${PORTS.matcher}`], ['mover', `http://127.0.0.1:${PORTS.mover}`],
    ['notify-bridge', `http://127.0.0.1:${PORTS.bridge}`], ['notifier', `http://127.0.0.1:${PORTS.notifier}`], ['offerserver', offerserverUrl], ['website', websiteUrl],
  ];
  await Promise.all(ready.map(([name, url]) => waitReady(name, url)));
  // The website calls the API on its own origin: nginx with the compose file's nginx.conf puts them together.
  const port = (url: string) => Number(new URL(url).port);
  const nginx: LocalNginx | undefined = await startLocalNginx({
    tracker: port(trackerUrl), storage: port(storageUrl), imageserver: port(imageserverUrl), kafidx: port(kafidxUrl), website: port(websiteUrl),
  }).catch((err: unknown) => {
    say(`website      not shown: nginx could not start (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    return undefined;
  });
  say(`tracker      ${trackerUrl}  (try: curl -i '${trackerUrl}/t/w?wor=king')`);
  say(`kafkastore   http://127.0.0.1:${config.KAFKASTORE_PORT}/metrics`);
  say(`stats        ${statsUrl}/stats`);
  say(`kafidx       ${kafidxUrl}/?token=${kafidxToken}#topics=events  ← open it to watch the demo's events live`);
  say(`storage      ${storageUrl}/docs  (the JSON API; try: curl '${storageUrl}/listings/nearby?kind=offer&lng=13.405&lat=52.52&radiusM=2000')`);

  const kafka = createKafka({ clientId: 'demo', brokers: config.KAFKA_BROKERS, logger });
  await ensureTopics(kafka, [topics.events, topics.matches]);
  let arrived = 0;
  let shown = false;
  const byType = new Map<string, number>();
  const watcher = await runConsumer({
    kafka, logger, groupId: 'demo-watch', topics: [topics.events.name], awaitJoin: true,
    eachBatch: async (messages) => {
      for (const message of messages) {
        const event = parseJson<EnrichedEvent>(message);
        arrived++;
        byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
        if (!shown && event.type === 'location') {
          shown = true;
          say(`first enriched event in Kafka \`events\`:\n${JSON.stringify(event, null, 2)}`);
        }
      }
    },
  });

  const random = seededRandom(42); // a demo run is reproducible
  const users = createUsers(config.DEMO_USERS, { lng: 13.405, lat: 52.52 }, 2_000, random);
  const market = createMarketplace();
  const matchWatcher = await watchMatches(kafka, logger, topics.matches.name, market, Date.now(), say);
  const stopWatchingPushes = watchPushes(standinUrl, say);
  const urls = { storage: storageUrl, imageserver: imageserverUrl };
  await openMarketplace(market, urls, jwtSecret, users, random);
  say(`${users.length} users registered a phone; ${market.titles.size} listings created (searches follow their owners)`);
  const [firstImage] = market.images.keys();
  if (firstImage) say(`imageserver  ${market.images.size} offers have a photo, e.g. ${imageserverUrl}/images/${firstImage}/medium`);
  const feed = await startLocalFeed();
  const adminToken = await signToken('admin', jwtSecret);
  const imported = await registerFeed(offerserverUrl, adminToken, feed.url);
  for (const [id, title] of await importedTitles(storageUrl, imported.id)) {
    market.titles.set(id, `offer "${title}"`);
    market.imported.set(id, 'local feed');
  }
  say(`offerserver  ${offerserverUrl}/docs  imported ${imported.created} offers from a local feed (${feed.url}); they are listings of source:${imported.id}`);
  marketplaceOpened(market, say);
  if (nginx !== undefined) {
    say(`website      ${nginx.https}/?lat=52.52000&lng=13.40500&r=2000&kind=offer  ← open it: the demo's offers and searches around Berlin's centre`);
    say(`             (HTTPS with a self-signed certificate made for this run: the browser warns once. For the alerts' service worker, start Chromium trusting it:`);
    say(`             chromium --user-data-dir=$(mktemp -d) --ignore-certificate-errors-spki-list=${spkiHash(nginx.ca)} '${nginx.https}/')`);
  }
  let sent = 0;
  let failed = 0;
  const started = Date.now();
  let stop = false;
  process.once('SIGINT', () => { stop = true; });
  process.once('SIGTERM', () => { stop = true; });
  say(`${users.length} users walking around Berlin's centre; Ctrl-C stops the demo`);

  for (let second = 1; !stop && (config.DEMO_SECONDS === 0 || second <= config.DEMO_SECONDS); second++) {
    const tick = Date.now();
    await Promise.all(users.map(async (user, i) => {
      walk(user, 1.4, random);
      const client = clients[i % clients.length]!;
      const headers = { 'x-forwarded-for': client.ip, 'user-agent': client.userAgent, 'content-type': 'application/json' };
      const location = fetch(`${trackerUrl}/t/location?userId=${user.userId}`, {
        method: 'POST', headers, body: JSON.stringify({ lng: user.lng, lat: user.lat, accuracyM: 8 }),
      });
      const view = random() < 0.2 ? fetch(`${trackerUrl}/t/page.view?userId=${user.userId}&path=${encodeURIComponent(pageView(random).path)}`, { headers }) : undefined;
      for (const response of await Promise.all([location, view].filter((r) => r !== undefined))) {
        if (response.status === 204) sent++;
        else failed++;
      }
    }));
    if (second % 5 === 1) {
      const types = [...byType].map(([type, n]) => `${type} ${n}`).join(', ');
      say(`t=${second}s  accepted by the tracker ${sent}${failed ? ` (refused ${failed})` : ''}  arrived in Kafka ${arrived}  (${types})`);
    }
    await sleep(Math.max(0, 1000 - (Date.now() - tick)));
  }

  // Let the last events through, then stop everything.
  const deadline = Date.now() + 10_000;
  while (arrived < sent && Date.now() < deadline) await sleep(100);
  say(`done after ${((Date.now() - started) / 1000).toFixed(1)} s: ${sent} events accepted, ${arrived} arrived in Kafka \`events\``);
  // Ctrl-C in a terminal reaches the services too: one may be gone before the demo tidies up what it made there.
  const tidy = async (done: () => Promise<string>, left: string) => {
    try {
      say(await done());
    } catch (error) {
      say(`${left}: ${(error as Error).message}`);
    }
  };
  try {
    await tidy(async () => {
      await closeMarketplace(market, urls, jwtSecret);
      return `closed the demo's ${market.owners.size} listings and deleted their ${market.images.size} photos`;
    }, "left the demo's listings and photos as they are (storage or the imageserver stopped first)");
    await tidy(
      async () => `deleted the local feed's source: the offer server closed its ${await removeFeed(offerserverUrl, adminToken, imported.id)} listings`,
      "left the local feed's source and its listings as they are (the offer server stopped first)",
    );
  } finally {
    stopWatchingPushes();
    feed.server.close();
    await Promise.all([watcher.stop(), matchWatcher.stop(), nginx?.stop()]);
    await stopAll();
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  await stopAll();
  process.exit(1);
});
