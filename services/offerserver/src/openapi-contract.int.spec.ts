/**
 * The document the offer server serves at /docs/json says what the API does: every operation
 * walked with requests made from the document's own schemas (valid ones, and ones breaking one
 * rule), on the real stack (@pushtech/testing's checkOpenApiContract). A failure prints the seed:
 * `OPENAPI_CONTRACT_SEED=<seed> PUSHTECH_STACK_DIR=… ./pushtech test services/offerserver/src/openapi-contract.int.spec.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@pushtech/auth';
import { checkOpenApiContract, contractSummary, fetchDocument, freePort, oneSidedOperations, type OpenApiOperation } from '@pushtech/testing';
import { offerserverService, type RunningOfferserver } from './offerserver.ts';
import { dropDatabase, testLogger, testSettings } from './test-offerserver.ts';

const settings = testSettings();
let service: Awaited<ReturnType<ReturnType<typeof offerserverService>['start']>>;
let url: string;
let admin: string;
const ids: string[] = [];
/**
 * Rules the document states only in its descriptions (OpenAPI 3.0 cannot say them): an http(s) URL,
 * `mapping` exactly for kind json, the latitude's range (no tuples), a PATCH changes something, a cursor of a previous page.
 */
const STATED_IN_WORDS = ['url', 'mapping', 'defaultLocation.coordinates.1', 'body', 'cursor'];

beforeAll(async () => {
  service = await offerserverService({ loop: false }).start({ config: settings, logger: testLogger() });
  await (service.ready as Promise<RunningOfferserver>);
  url = service.url!;
  admin = `Bearer ${await signToken('admin', settings.JWT_SECRET)}`;
  // Sources that exist, so that the walk reaches the 200s and not only the 404s.
  for (const kind of ['feed', 'lemmy', 'feed'] as const) {
    const res = await service.http.inject({ method: 'POST', url: '/sources', headers: { authorization: admin }, payload: { kind, url: `https://example.org/${kind}.xml`, enabled: false } });
    expect(res.statusCode, res.body).toBe(201);
    ids.push(res.json().id);
  }
});

afterAll(async () => {
  await service?.stop();
  await dropDatabase(settings);
});

describe('the offer server\'s served OpenAPI document', () => {
  it('agrees with the API on every operation, for valid and invalid requests', async () => {
    const report = await checkOpenApiContract({
      baseUrl: url,
      credentials: () => ({ authorization: admin }),
      knownValues: { id: ids, kind: ['feed', 'lemmy'], url: ['https://example.org/feed.xml', 'http://example.com/c/offers'] },
      rulesInWords: STATED_IN_WORDS,
      bodyLimitBytes: 64 * 1024,
      undocumentedPaths: { '/docs': ['GET'], '/docs/json': ['GET'], '/docs/yaml': ['GET'] },
      numRuns: 25,
      allowedServerErrors: (operation, status) => operation === 'GET /readyz' && status === 503,
      // Deleting would empty the known sources under the other operations: walked last, on its own.
      skip: (method) => method === 'DELETE',
    });
    const deletes = await checkOpenApiContract({
      baseUrl: url,
      credentials: () => ({ authorization: admin }),
      knownValues: { id: ids },
      numRuns: 10,
      skip: (method) => method !== 'DELETE',
    });
    for (const [operation, seen] of deletes) report.set(operation, seen);
    console.log(contractSummary(report));
    // The walk reached both sides of every operation: some answer succeeded, some refused.
    expect(oneSidedOperations(report), contractSummary(report)).toEqual([]);
  }, 120_000);

  it('documents every answer as application/json (metrics as text), 401 with WWW-Authenticate, 201 with Location, 503 with Retry-After', async () => {
    const document = await fetchDocument(url);
    expect(JSON.stringify(document)).not.toContain('x-required');
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item) as [string, OpenApiOperation][]) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const where = `${method.toUpperCase()} ${path} ${status}`;
          expect(Object.keys(response.content ?? {}), where).toEqual(path === '/metrics' && status === '200' ? ['text/plain'] : ['application/json']);
          if (status === '503' && path !== '/readyz') expect(response.headers?.['Retry-After']?.required, where).toBe(true);
          if (status === '401') expect(response.headers?.['WWW-Authenticate']?.required, where).toBe(true);
          if (status === '201') expect(response.headers?.Location?.required, where).toBe(true);
        }
      }
    }
  });
});

describe('the offer server\'s served OpenAPI document, while it waits for Kafka', () => {
  it('documents the 503 (with Retry-After) of every API operation', async () => {
    const waitingSettings = testSettings({ KAFKA_BROKERS: [`127.0.0.1:${await freePort()}`] });
    const waiting = await offerserverService({ loop: false }).start({ config: waitingSettings, logger: testLogger() });
    try {
      const report = await checkOpenApiContract({
        baseUrl: waiting.url!,
        credentials: () => ({ authorization: admin }),
        knownValues: { url: ['https://example.org/feed.xml'] },
        rulesInWords: STATED_IN_WORDS,
        allowedServerErrors: (_, status) => status === 503,
        numRuns: 10,
      });
      for (const [operation, seen] of report) {
        if (['GET /healthz', 'GET /metrics'].includes(operation)) continue;
        expect(seen.get(503), `${operation} never answered 503: ${contractSummary(report)}`).toBeGreaterThan(0);
      }
    } finally {
      await waiting.stop();
      await dropDatabase(waitingSettings);
    }
  }, 60_000);
});
