/** For integration tests: local HTTP servers with fixtures, and an offer server on the local stack with its own topic and database. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { signToken } from '@pushtech/auth';
import { listingsTopic } from '@pushtech/contracts';
import { createKafka } from '@pushtech/kafka';
import type { ListingEvent } from '@pushtech/listings';
import { createLogger } from '@pushtech/logging';
import { connectMongo } from '@pushtech/mongo';
import { readTopic, stackAddresses, uniqueName, type TopicReader } from '@pushtech/testing';
import type { OfferserverConfig } from './config.ts';
import { offerserverService, type RunningOfferserver } from './offerserver.ts';

export const TEST_SECRET = 'integration-test-secret-0123456789abcdef';

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export interface FixtureServer {
  url: string;
  /** Paths to handlers; change them between fetches. */
  routes: Map<string, Handler>;
  /** Every request's path (with query), in order. */
  requests: Array<{ path: string; headers: IncomingMessage['headers'] }>;
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startFixtureServer(routes: Record<string, Handler> = {}): Promise<FixtureServer> {
  const table = new Map(Object.entries(routes));
  const requests: FixtureServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push({ path, headers: request.headers });
    const handler = table.get(path) ?? table.get(path.split('?')[0]!);
    if (handler === undefined) {
      response.writeHead(404).end('not here');
      return;
    }
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routes: table,
    requests,
    hits: (path) => requests.filter((r) => r.path === path).length,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Answers `body` with a content type, an ETag and Last-Modified if given, and `304` to a matching If-None-Match. */
export function serve(body: string | (() => string), contentType = 'application/xml', options: { etag?: string; lastModified?: string } = {}): Handler {
  return (request, response) => {
    if (options.etag !== undefined && request.headers['if-none-match'] === options.etag) {
      response.writeHead(304, { etag: options.etag }).end();
      return;
    }
    const validators = { ...(options.etag === undefined ? {} : { etag: options.etag }), ...(options.lastModified === undefined ? {} : { 'last-modified': options.lastModified }) };
    response.writeHead(200, { 'content-type': contentType, ...validators });
    response.end(typeof body === 'string' ? body : body());
  };
}

export interface TestClock {
  ms: number;
  advance(ms: number): void;
}

export interface TestOfferserver {
  app: FastifyInstance;
  running: RunningOfferserver;
  settings: OfferserverConfig;
  clock: TestClock;
  adminToken: string;
  /** POST /sources as the admin; the created source's view. */
  addSource(body: Record<string, unknown>): Promise<{ id: string } & Record<string, unknown>>;
  getSource(id: string): Promise<Record<string, unknown> & { state: Record<string, unknown> }>;
  /** One due check and its fetches, to the end. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export const testLogger = () => createLogger('offerserver-test', (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent');

export function testSettings(change: Partial<OfferserverConfig> = {}): OfferserverConfig {
  const { kafkaBrokers, mongoUrl } = stackAddresses();
  return {
    HOST: '127.0.0.1',
    PORT: 0,
    LOG_LEVEL: 'silent',
    KAFKA_BROKERS: kafkaBrokers,
    MONGO_URL: mongoUrl,
    MONGO_DB: uniqueName('offers'),
    JWT_SECRET: TEST_SECRET,
    ADMIN_USER_IDS: ['admin'],
    LISTINGS_TOPIC: uniqueName('listings'),
    IMPORT_ENABLED: false,
    IMPORT_BATCH_SIZE: 50,
    IMPORT_CONCURRENCY: 4,
    IMPORT_POLL_MS: 50,
    IMPORT_LEASE_MS: 60_000,
    IMPORT_BACKOFF_INITIAL_MS: 60_000,
    IMPORT_BACKOFF_MAX_MS: 3_600_000,
    IMPORT_GONE_AFTER: 3,
    FETCH_HOST_PER_MINUTE: 1_000,
    FETCH_TIMEOUT_MS: 5_000,
    FETCH_MAX_BYTES: 5 * 1024 * 1024,
    FETCH_MAX_REDIRECTS: 5,
    FETCH_ALLOW_PRIVATE: true, // the fixture servers are on 127.0.0.1
    FETCH_USER_AGENT: 'PushtechOfferServer/test (+https://example.org/contact)',
    IMPORT_MAX_ITEMS: 200,
    IMAGESERVER_URL: '',
    ...change,
  };
}

/** Starts an offer server (not listening, no loop) on a clock the test moves. */
export async function startTestOfferserver(settings = testSettings(), options: { clock?: TestClock; loop?: boolean } = {}): Promise<TestOfferserver> {
  const clock = options.clock ?? testClock();
  const service = await offerserverService({ now: () => clock.ms, loop: options.loop ?? false }).start({ config: settings, logger: testLogger(), listen: false });
  const running = await service.ready.catch(async (err: unknown) => {
    await service.stop();
    throw err;
  });
  const adminToken = await signToken('admin', settings.JWT_SECRET);
  const headers = { authorization: `Bearer ${adminToken}` };
  return {
    app: service.http,
    running,
    settings,
    clock,
    adminToken,
    async addSource(body) {
      const answer = await service.http.inject({ method: 'POST', url: '/sources', headers, payload: body });
      if (answer.statusCode !== 201) throw new Error(`POST /sources answered ${answer.statusCode}: ${answer.body}`);
      return answer.json();
    },
    async getSource(id) {
      return (await service.http.inject({ method: 'GET', url: `/sources/${id}`, headers })).json();
    },
    runOnce: () => running.scheduler.runOnce(),
    stop: () => service.stop(),
  };
}

export function testClock(start = Date.now()): TestClock {
  const clock = { ms: start, advance: (ms: number) => { clock.ms += ms; } };
  return clock;
}

/** Reads the test's listings topic from the start; `events()` decodes what arrived. */
export async function readListings(topic: string): Promise<TopicReader & { events(): ListingEvent[] }> {
  const kafka = createKafka({ clientId: uniqueName('reader'), brokers: stackAddresses().kafkaBrokers, logger: testLogger() });
  const reader = await readTopic(kafka, topic, testLogger());
  return Object.assign(reader, {
    events: () => reader.messages.map((m) => {
      const decoded = listingsTopic.decode(m.value!);
      if (!decoded.ok) throw new Error(`bad listing event: ${JSON.stringify(decoded.errors)}`);
      return decoded.value.event;
    }),
  });
}

export async function dropDatabase(settings: OfferserverConfig): Promise<void> {
  const client = await connectMongo(settings.MONGO_URL, { appName: 'offerserver-test' });
  await client.db(settings.MONGO_DB).dropDatabase().catch(() => {});
  await client.close();
}
