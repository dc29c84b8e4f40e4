/**
 * The document storage serves at /docs/json says what the API does: every operation walked with
 * requests made from the document's own schemas (valid ones, and ones breaking one rule), on the
 * real stack (@pushtech/testing's checkOpenApiContract). A failure prints the seed:
 * `OPENAPI_CONTRACT_SEED=<seed> PUSHTECH_STACK_DIR=… ./pushtech test services/storage/src/openapi-contract.int.spec.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '@pushtech/mongo';
import { checkOpenApiContract, contractSummary, oneSidedOperations, fetchDocument, freePort, type OpenApiDocument, type OpenApiOperation } from '@pushtech/testing';
import { storageHttp } from './app.ts';
import { storageService } from './storage.ts';
import { listingBody, startTestStorage, testLogger, testSettings, type TestStorage } from './test-storage.ts';

let storage: TestStorage;
let url: string;
let alice: string;
const ids: string[] = [];
const cursors: string[] = [];
const subscriptionIds = ['1b3e7c52-9a4f-4d1e-8b6a-2f0c9d8e7a61'];
/** Rules the document states only in its descriptions (OpenAPI 3.0 has no way to say them). */
const STATED_IN_WORDS = ['expiresAt', 'cursor', 'location.coordinates.1', 'webPush.endpoint', 'webPush.keys.p256dh'];

beforeAll(async () => {
  // A write waits at most 2 s for the projection, then answers its documented 202: a loaded machine slows the walk, never stalls it.
  storage = await startTestStorage(testSettings({ READ_YOUR_WRITES_TIMEOUT_MS: 2_000 }), { listen: true });
  url = storage.url!;
  alice = `Bearer ${await storage.token('alice')}`;
  const headers = { authorization: alice };
  // Things that exist, so that the walk reaches the 200s and not only the 404s.
  for (const kind of ['offer', 'search', 'offer'] as const) {
    const res = await storage.app.inject({ method: 'POST', url: '/listings', headers, payload: listingBody({ kind }) });
    expect([201, 202], res.body).toContain(res.statusCode);
    ids.push(res.json().id);
  }
  const bobs = await storage.app.inject({ method: 'POST', url: '/listings', headers: { authorization: `Bearer ${await storage.token('bob')}` }, payload: listingBody() });
  ids.push(bobs.json().id);
  const device = await storage.app.inject({ method: 'POST', url: '/me/devices', headers, payload: { subscriptionId: subscriptionIds[0], platform: 'ios' } });
  expect([201, 202], device.body).toContain(device.statusCode);
  for (const page of ['/listings?ownerId=alice&limit=1', '/listings/nearby?kind=offer&lng=13.405&lat=52.52&limit=1']) {
    const { nextCursor } = (await storage.app.inject(page)).json();
    if (typeof nextCursor === 'string') cursors.push(nextCursor);
  }
});

afterAll(async () => {
  await storage?.stop();
});

describe('the served OpenAPI document', () => {
  it('agrees with the API on every operation, for valid and invalid requests', async () => {
    const report = await checkOpenApiContract({
      baseUrl: url,
      credentials: () => ({ authorization: alice }),
      knownValues: { id: ids, ownerId: ['alice', 'bob'], subscriptionId: subscriptionIds, kind: ['offer', 'search'], cursor: cursors },
      // What OpenAPI 3.0 cannot say, said in the descriptions: the future, a cursor of a previous page, the latitude's range (no tuples).
      rulesInWords: STATED_IN_WORDS,
      bodyLimitBytes: storageHttp.bodyLimit,
      undocumentedPaths: { '/docs': ['GET'], '/docs/json': ['GET'], '/docs/yaml': ['GET'] },
      numRuns: 30,
      // Readiness pings the shared Mongo with a 2 s timeout, which a loaded machine can miss.
      allowedServerErrors: (operation, status) => operation === 'GET /readyz' && status === 503,
    });
    console.log(contractSummary(report));
    // The walk reached both sides of every operation: some answer succeeded, some refused.
    expect(oneSidedOperations(report), contractSummary(report)).toEqual([]);
  }, 180_000);

  it('documents every answer but a 204 as application/json, the 204 without content, and the headers always sent as required', async () => {
    const document: OpenApiDocument = await fetchDocument(url);
    expect(JSON.stringify(document)).not.toContain('x-required');
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item) as [string, OpenApiOperation][]) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const types = Object.keys(response.content ?? {});
          const where = `${method.toUpperCase()} ${path} ${status}`;
          if (status === '204') expect(response.content, where).toBeUndefined();
          else if (path === '/metrics' && status === '200') expect(types, where).toEqual(['text/plain']);
          else expect(types, where).toEqual(['application/json']);
          if (status === '503' && path !== '/readyz') expect(response.headers?.['Retry-After']?.required, where).toBe(true);
          if (status === '401') expect(response.headers?.['WWW-Authenticate']?.required, where).toBe(true);
          if (status === '201') expect(response.headers?.Location?.required, where).toBe(true);
        }
        if (!['/healthz', '/readyz', '/metrics'].includes(path)) expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['503']));
        if (operation.security !== undefined) expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['401']));
      }
    }
    expect((document.paths['/listings/{id}']!.delete as { description?: string }).description).toMatch(/status: closed/);
  });
});

describe('the served OpenAPI document, while storage waits for Kafka', () => {
  it('documents the 503 (with Retry-After) of every API operation', async () => {
    const settings = testSettings({ KAFKA_BROKERS: [`127.0.0.1:${await freePort()}`] });
    const waiting = await storageService().start({ config: settings, logger: testLogger() });
    try {
      const report = await checkOpenApiContract({
        baseUrl: waiting.url!,
        credentials: () => ({ authorization: alice }),
        rulesInWords: STATED_IN_WORDS,
        allowedServerErrors: (_, status) => status === 503,
        numRuns: 10,
      });
      for (const [operation, seen] of report) {
        if (['GET /healthz', 'GET /metrics'].includes(operation)) continue;
        expect(seen.get(503), `${operation} never answered 503`).toBeGreaterThan(0);
      }
    } finally {
      await waiting.stop();
      const mongo = await connectMongo(settings.MONGO_URL, { appName: 'storage-test' });
      await mongo.db(settings.MONGO_DB).dropDatabase();
      await mongo.close();
    }
  }, 120_000);
});
