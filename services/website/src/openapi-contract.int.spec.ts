/**
 * The document the website serves at /docs/json (its JSON API: `/account/*`) says what the API
 * does: every operation walked with requests made from the document's own schemas (valid ones, and
 * ones breaking one rule), on the real stack (@pushtech/testing's checkOpenApiContract), with a CSRF
 * cookie and token on every request and a session cookie as the credentials. A failure prints the seed:
 * `OPENAPI_CONTRACT_SEED=<seed> PUSHTECH_STACK_DIR=… ./pushtech test services/website/src/openapi-contract.int.spec.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@pushtech/config';
import { createLogger } from '@pushtech/logging';
import { connectMongo } from '@pushtech/mongo';
import { checkOpenApiContract, contractSummary, fetchDocument, freePort, oneSidedOperations, stackAddresses, uniqueName, type OpenApiOperation } from '@pushtech/testing';
import { websiteConfigSpec } from './config.ts';
import { websiteService } from './website.ts';

const env = {
  HOST: '127.0.0.1',
  PORT: '0',
  JWT_SECRET: 'website-contract-secret-0123456789abcdefghij',
  MONGO_URL: stackAddresses().mongoUrl,
  MONGO_DB: uniqueName('website'),
  COOKIE_SECURE: 'false',
  PASSWORD_SCRYPT_LOG2_N: '10',
  // The walk signs in and up many times from one address: the limits are tested in packages/accounts.
  LOGIN_LIMIT_PER_IP: '100000',
  LOGIN_LIMIT_PER_ACCOUNT: '100000',
};
const EMAIL = 'walker@example.org';
const PASSWORD = 'a long enough password';
/** What OpenAPI 3.0 cannot say of an email and a password (normalised, then shaped; code points), said in the body's description. */
const STATED_IN_WORDS = ['email', 'password'];

let service: Awaited<ReturnType<ReturnType<typeof websiteService>['start']>>;
let url: string;
/** The CSRF cookie and its token: every request sends them. */
let csrf: { cookie: string; token: string };
let sessionCookie: string;

beforeAll(async () => {
  service = await websiteService().start({ config: loadConfig(websiteConfigSpec, env), logger: createLogger('website', 'silent') });
  await service.ready;
  url = service.url!;
  const page = await service.http.inject({ url: '/account/csrf' });
  csrf = { cookie: `pt_csrf=${page.cookies.find((c) => c.name === 'pt_csrf')!.value}`, token: page.json().csrfToken };
  const signup = await service.http.inject({ method: 'POST', url: '/account/signup', headers: { cookie: csrf.cookie, 'x-csrf-token': csrf.token }, payload: { email: EMAIL, password: PASSWORD } });
  expect(signup.statusCode, signup.body).toBe(201);
  // Sign-up renews the CSRF cookie; the walk keeps the first one (and its token) with the new session.
  sessionCookie = `pt_session=${signup.cookies.find((c) => c.name === 'pt_session')!.value}`;
}, 60_000);

afterAll(async () => {
  await service?.stop();
  const mongo = await connectMongo(env.MONGO_URL, { appName: 'website-test' });
  await mongo.db(env.MONGO_DB).dropDatabase();
  await mongo.close();
});

describe('the website\'s served OpenAPI document (its JSON API)', () => {
  it('agrees with the API on every operation, for valid and invalid requests', async () => {
    const report = await checkOpenApiContract({
      baseUrl: url,
      headers: () => ({ cookie: csrf.cookie, 'x-csrf-token': csrf.token }),
      credentials: () => ({ cookie: `${csrf.cookie}; ${sessionCookie}`, 'x-csrf-token': csrf.token }),
      knownValues: { email: [EMAIL, 'someone.else@example.org'], password: [PASSWORD] },
      rulesInWords: STATED_IN_WORDS,
      // Fastify's default: the accounts' bodies are small, a megabyte is refused 413.
      bodyLimitBytes: 1024 * 1024,
      // Signing out would end the walk's session: walked on its own below.
      skip: (_, path) => path === '/account/signout',
      numRuns: 20,
      allowedServerErrors: (operation, status) => operation === 'GET /readyz' && status === 503,
    });
    const signout = await checkOpenApiContract({
      baseUrl: url,
      headers: () => ({ cookie: csrf.cookie, 'x-csrf-token': csrf.token }),
      numRuns: 10,
      skip: (_, path) => path !== '/account/signout',
    });
    for (const [operation, seen] of signout) report.set(operation, seen);
    console.log(contractSummary(report));
    // The walk reached both sides of every operation: some answer succeeded, some refused.
    expect(oneSidedOperations(report), contractSummary(report)).toEqual([]);
  }, 120_000);

  it('has the JSON routes and no page', async () => {
    const document = await fetchDocument(url);
    expect(Object.keys(document.paths).sort()).toEqual(['/account/csrf', '/account/me', '/account/signin', '/account/signout', '/account/signup', '/account/token', '/healthz', '/metrics', '/readyz']);
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item) as [string, OpenApiOperation][]) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (status === '429' || (status === '503' && path !== '/readyz')) expect(response.headers?.['Retry-After']?.required, `${method} ${path} ${status}`).toBe(true);
        }
      }
    }
  });
});

describe('the website\'s served OpenAPI document, while MongoDB is away', () => {
  it('documents the 503 (with Retry-After) of every account operation that needs MongoDB', async () => {
    const away = await websiteService().start({ config: loadConfig(websiteConfigSpec, { ...env, MONGO_URL: `mongodb://127.0.0.1:${await freePort()}` }), logger: createLogger('website', 'silent') });
    try {
      const report = await checkOpenApiContract({
        baseUrl: away.url!,
        headers: () => ({ cookie: csrf.cookie, 'x-csrf-token': csrf.token }),
        credentials: () => ({ cookie: `${csrf.cookie}; ${sessionCookie}`, 'x-csrf-token': csrf.token }),
        knownValues: { email: [EMAIL], password: [PASSWORD] },
        rulesInWords: STATED_IN_WORDS,
        allowedServerErrors: (_, status) => status === 503,
        numRuns: 10,
      });
      console.log(contractSummary(report));
      // Sign-out without a session needs no MongoDB (204): the walk sends it none.
      for (const operation of ['POST /account/signup', 'POST /account/signin', 'GET /account/me', 'POST /account/token']) {
        expect(report.get(operation)?.get(503), `${operation} never answered 503: ${contractSummary(report)}`).toBeGreaterThan(0);
      }
    } finally {
      await away.stop();
    }
  }, 60_000);
});
