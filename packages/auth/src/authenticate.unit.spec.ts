/** `authenticate` on a Fastify route: our HS256 tokens, and the OIDC issuer's when a verifier is given. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { handMadeToken, startLocalIssuer, type LocalIssuer } from '@pushtech/testing';
import { authenticate, createOidcVerifier, OIDC_DEPENDENCY_ERRORS, OidcUnavailableError, signToken, type OidcVerifier } from './index.ts';

const SECRET = 'auth-unit-test-secret-0123456789abcdef';
const AUDIENCE = 'pushtech-api';
const now = () => Math.floor(Date.now() / 1000);
let idp: LocalIssuer;

beforeAll(async () => { idp = await startLocalIssuer(AUDIENCE); });
afterAll(() => idp.close());

/** GET /me answers the user id `authenticate` found; its errors reach the test as they are. */
function appWith(oidc?: OidcVerifier): FastifyInstance {
  const app = Fastify();
  app.get('/me', async (request, reply) => {
    const userId = await authenticate(request, reply, SECRET, oidc);
    if (userId !== undefined) return { userId };
    return reply;
  });
  return app;
}

const me = (app: FastifyInstance, token: string) => app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
const refusal = (rule: string) => ({ error: 'unauthorized', errors: [{ field: 'authorization', rule }] });

describe('with an OIDC verifier', () => {
  let app: FastifyInstance;
  beforeAll(() => { app = appWith(createOidcVerifier({ issuer: idp.issuer, audience: AUDIENCE })); });

  it('takes our HS256 token as its sub, and the issuer\'s RS256 and ES256 tokens as oidc:<sub>', async () => {
    expect((await me(app, await signToken('alice', SECRET))).json()).toEqual({ userId: 'alice' });
    expect((await me(app, await idp.sign({ sub: 'alice' }))).json()).toEqual({ userId: 'oidc:alice' });
    expect((await me(app, await idp.sign({ sub: 'bob' }, { alg: 'ES256' }))).json()).toEqual({ userId: 'oidc:bob' });
  });

  it('refuses (401, naming the reason) a token for another audience, from another issuer, or expired', async () => {
    const cases: [string, string][] = [
      [await idp.sign({ sub: 'alice' }, { audience: 'someone-else' }), 'the token\'s aud is not valid: check_failed'],
      [await idp.sign({ sub: 'alice' }, { issuer: 'https://evil.example' }), 'the token\'s iss is not valid: check_failed'],
      [await idp.sign({ sub: 'alice' }, { expiresIn: now() - 120 }), 'the token has expired'],
    ];
    for (const [token, rule] of cases) {
      const response = await me(app, token);
      expect(response.statusCode, rule).toBe(401);
      expect(response.json()).toEqual(refusal(rule));
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    }
  });

  it('refuses alg none, and an HS256 token keyed with the issuer\'s public key (algorithm confusion)', async () => {
    const claims = { sub: 'mallory', iss: idp.issuer, aud: AUDIENCE, exp: now() + 300 };
    const none = await handMadeToken({ alg: 'none', typ: 'JWT' }, claims);
    expect((await me(app, none)).json()).toEqual(refusal('must be Bearer <token> (a JWT)'));
    expect((await me(app, `${none}x`)).json()).toEqual(refusal('the token must be signed with HS256, RS256, ES256'));
    const confused = await handMadeToken({ alg: 'HS256', kid: 'rsa-1' }, claims, new TextEncoder().encode(JSON.stringify(idp.publicJwks.keys[0])));
    expect((await me(app, confused)).json()).toEqual(refusal('the token signature is not valid'));
  });
});

describe('without an OIDC verifier', () => {
  it('refuses the issuer\'s token, naming the one algorithm it takes', async () => {
    const response = await me(appWith(), await idp.sign({ sub: 'alice' }));
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(refusal('the token must be signed with HS256'));
  });
});

describe('an issuer it cannot reach', () => {
  it('is not the token\'s fault: an OidcUnavailableError, which services answer 503', async () => {
    const away = createOidcVerifier({ issuer: 'http://127.0.0.1:9', audience: AUDIENCE, fetchTimeoutMs: 2_000 });
    const app = appWith(away);
    let thrown: unknown;
    app.setErrorHandler(async (err, _request, reply) => {
      thrown = err;
      return reply.code(599).send();
    });
    expect((await me(app, await idp.sign({ sub: 'alice' }))).statusCode).toBe(599);
    expect(thrown).toBeInstanceOf(OidcUnavailableError);
    expect(OIDC_DEPENDENCY_ERRORS[(thrown as Error).name]).toBe('the OIDC issuer');
  });
});
