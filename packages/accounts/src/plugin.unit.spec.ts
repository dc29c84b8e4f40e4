/** The plugin's CSRF check and bearer sessions: no database needed (the cookie sessions are in accounts.int.spec.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { signToken, verifyToken } from '@pushtech/auth';
import { handMadeToken, startLocalIssuer, type LocalIssuer } from '@pushtech/testing';
import { sessionOf } from './session.ts';
import { Browser, TEST_SECRET, testApp } from './test-app.ts';

const AUDIENCE = 'pushtech-website';
let idp: LocalIssuer;

beforeAll(async () => { idp = await startLocalIssuer(AUDIENCE); });
afterAll(() => idp.close());

describe('CSRF: every write needs the token of the browser\'s CSRF cookie', () => {
  it('refuses a write without the cookie, without the token, or with a token of another cookie', async () => {
    const app = await testApp();
    const browser = new Browser(app);
    let response = await browser.request({ method: 'POST', url: '/site/write', payload: {} });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ error: 'forbidden', errors: [{ field: 'x-csrf-token', rule: 'needs the CSRF cookie: load a page or GET /account/csrf first' }] });

    await browser.loadPage();
    response = await browser.request({ method: 'POST', url: '/site/write', payload: {}, csrf: false });
    expect(response.statusCode).toBe(403);
    expect(response.json().errors[0].rule).toMatch(/^is required on writes/);

    const other = new Browser(app);
    await other.loadPage();
    response = await browser.request({ method: 'POST', url: '/site/write', payload: {}, csrf: false, headers: { 'x-csrf-token': other.csrfToken! } });
    expect(response.json()).toEqual({ error: 'forbidden', errors: [{ field: 'x-csrf-token', rule: 'does not match the CSRF cookie' }] });
    response = await browser.request({ method: 'POST', url: '/site/write', csrf: false, headers: { 'x-csrf-token': 'short' } });
    expect(response.statusCode).toBe(403);
    await app.close();
  });

  it('accepts the token as the x-csrf-token header or as the _csrf field of a form post', async () => {
    const app = await testApp();
    const browser = new Browser(app);
    await browser.loadPage();
    expect((await browser.request({ method: 'POST', url: '/site/write', payload: {} })).json()).toEqual({ written: true });
    const form = await browser.request({ method: 'POST', url: '/site/write', payload: { _csrf: browser.csrfToken, title: 'bike' }, csrf: false });
    expect(form.json()).toEqual({ written: true });
    await app.close();
  });

  it('reads (GET) need no token; a route with config.csrf false is left alone; a bearer-only write needs none', async () => {
    const app = await testApp();
    const browser = new Browser(app);
    expect((await browser.request({ method: 'POST', url: '/site/webhook' })).json()).toEqual({ hooked: true });
    const token = await signToken('user-1', TEST_SECRET);
    const bearer = await browser.request({ method: 'POST', url: '/site/write', headers: { authorization: `Bearer ${token}` } });
    expect(bearer.json()).toEqual({ written: true });
    // Basic credentials are resent by the browser by itself, like a cookie: no exemption.
    expect((await browser.request({ method: 'POST', url: '/site/write', headers: { authorization: 'Basic dTpw' } })).statusCode).toBe(403);
    // …and a session cookie beside a bearer header is ambient again: the token is needed.
    browser.cookies.set('pt_session', 'something');
    expect((await browser.request({ method: 'POST', url: '/site/write', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(403);
    await app.close();
  });

  it('the cookie is httpOnly, SameSite=Lax, and Secure with the __Host- prefix unless turned off', async () => {
    const secure = await testApp({ cookie: { secure: true } });
    const response = await secure.inject({ method: 'GET', url: '/account/csrf' });
    expect(response.headers['set-cookie']).toEqual([expect.stringMatching(/^__Host-pt_csrf=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/)]);
    const plain = await testApp({ cookie: { secure: false } });
    expect((await plain.inject({ method: 'GET', url: '/account/csrf' })).headers['set-cookie']).toEqual([expect.stringMatching(/^pt_csrf=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/)]);
    await secure.close();
    await plain.close();
  });

  it('a page asking twice for the token (two forms) sets one cookie, and both tokens work', async () => {
    const app = await testApp();
    const browser = new Browser(app);
    const page = await browser.request({ method: 'GET', url: '/site/two-forms' });
    expect(page.headers['set-cookie']).toHaveLength(1);
    const { first, second } = page.json();
    expect(second).toBe(first);
    expect((await browser.request({ method: 'POST', url: '/site/write', headers: { 'x-csrf-token': first } })).statusCode).toBe(200);
    await app.close();
  });

  it('a browser keeps its CSRF cookie and token across page loads', async () => {
    const app = await testApp();
    const browser = new Browser(app);
    await browser.loadPage();
    const first = browser.csrfToken;
    const again = await browser.request({ method: 'GET', url: '/account/csrf' });
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(browser.csrfToken).toBe(first);
    await app.close();
  });
});

describe('bearer tokens: ours (HS256), and the OIDC issuer\'s when configured', () => {
  it('our HS256 token is the user of its sub; an expired or forged one is a 401 naming why', async () => {
    const app = await testApp();
    const whoami = (token: string) => app.inject({ method: 'GET', url: '/site/whoami', headers: { authorization: `Bearer ${token}` } });
    expect((await whoami(await signToken('user-1', TEST_SECRET))).json()).toEqual({ userId: 'user-1', email: null, via: 'bearer' });
    const expired = await whoami(await signToken('user-1', TEST_SECRET, { expiresIn: Math.floor(Date.now() / 1000) - 60 }));
    expect(expired.json()).toEqual({ error: 'unauthorized', errors: [{ field: 'authorization', rule: 'the token has expired' }] });
    expect((await whoami(await signToken('user-1', 'another-secret-of-at-least-32-chars!!'))).json().errors[0].rule).toBe('the token signature is not valid');
    expect((await app.inject({ method: 'GET', url: '/site/whoami', headers: { authorization: 'Bearer not-a-jwt' } })).json().errors).toEqual([{ field: 'authorization', rule: 'must be Bearer <token> (a JWT)' }]);
    // Another scheme (Basic, of an nginx guarding a staging site) is not ours: the request is whoever its cookie says.
    expect((await app.inject({ method: 'GET', url: '/site/whoami', headers: { authorization: 'Basic dTpw' } })).json().errors).toEqual([{ field: 'session', rule: 'is required: sign in first' }]);
    expect((await app.inject({ method: 'GET', url: '/site/whoami' })).json()).toEqual({ error: 'unauthorized', errors: [{ field: 'session', rule: 'is required: sign in first' }] });
    await app.close();
  });

  it('without OIDC configured, an RS256 token is refused naming the algorithm it must have', async () => {
    const app = await testApp();
    const response = await app.inject({ method: 'GET', url: '/site/whoami', headers: { authorization: `Bearer ${await idp.sign({ sub: 'alice' })}` } });
    expect(response.json()).toEqual({ error: 'unauthorized', errors: [{ field: 'authorization', rule: 'the token must be signed with HS256' }] });
    expect((await app.inject({ method: 'POST', url: '/account/oidc' })).statusCode).toBe(404);
    await app.close();
  });

  it('with OIDC configured: the issuer\'s tokens are users "oidc:<sub>"; wrong aud, wrong iss, expired, none and HS256 confusion are 401', async () => {
    const app = await testApp({ oidc: { issuer: idp.issuer, audience: AUDIENCE } });
    const whoami = (token: string) => app.inject({ method: 'GET', url: '/site/whoami', headers: { authorization: `Bearer ${token}` } });
    expect((await whoami(await idp.sign({ sub: 'alice', email: 'alice@example.org', email_verified: true }))).json()).toEqual({ userId: 'oidc:alice', email: 'alice@example.org', via: 'oidc' });
    expect((await whoami(await idp.sign({ sub: 'bob' }, { alg: 'ES256' }))).json()).toMatchObject({ userId: 'oidc:bob' });
    const refused = [
      await idp.sign({ sub: 'alice' }, { audience: 'other-app' }),
      await idp.sign({ sub: 'alice' }, { issuer: 'https://evil.example' }),
      await idp.sign({ sub: 'alice' }, { expiresIn: Math.floor(Date.now() / 1000) - 120 }),
      await handMadeToken({ alg: 'none' }, { sub: 'alice', iss: idp.issuer, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 }),
      // HS256 "signed" with the issuer's public key: goes to our own secret, and fails there.
      await handMadeToken({ alg: 'HS256', kid: 'rsa-1' }, { sub: 'alice', iss: idp.issuer, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 }, new TextEncoder().encode(JSON.stringify(idp.publicJwks.keys[0]))),
    ];
    const answers = await Promise.all(refused.map(async (token) => (await whoami(token)).json()));
    expect(answers.map((a) => a.errors[0].rule)).toEqual([
      'the token\'s aud is not valid: check_failed',
      'the token\'s iss is not valid: check_failed',
      'the token has expired',
      'the token must be signed with HS256, RS256, ES256',
      'the token signature is not valid',
    ]);
    await app.close();
  });

  it('POST /account/token gives an OIDC user an HS256 token storage and the imageserver accept (no CSRF: a bearer header is not ambient)', async () => {
    const app = await testApp({ oidc: { issuer: idp.issuer, audience: AUDIENCE }, accessTokenTtlS: 120 });
    const response = await app.inject({ method: 'POST', url: '/account/token', headers: { authorization: `Bearer ${await idp.sign({ sub: 'alice' })}` } });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 120 });
    expect(await verifyToken(body.token, TEST_SECRET)).toEqual({ ok: true, userId: 'oidc:alice' });
    const exp = JSON.parse(Buffer.from(body.token.split('.')[1], 'base64url').toString()).exp;
    expect(exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(100);
    expect(exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(120);
    await app.close();
  });

  it('a cookie session needs the database: without it the answer is 503 unavailable, nothing changed', async () => {
    const app = await testApp();
    const browser = new Browser(app);
    await browser.loadPage();
    browser.cookies.set('pt_session', 'x'.repeat(43));
    const response = await browser.request({ method: 'GET', url: '/site/whoami' });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toBe('unavailable');
    await app.close();
  });

  it('the session sweep survives a database accessor that throws (defineService\'s running() before start)', async () => {
    const app = await testApp({ db: () => { throw new Error('starting'); }, sweepIntervalMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await app.close();
  });

  it('sessionOf on a route the plugin does not cover says so', async () => {
    const app = Fastify();
    app.get('/x', async (request) => sessionOf(request));
    expect((await app.inject({ method: 'GET', url: '/x' })).json().message).toMatch(/accounts plugin is not registered/);
    await app.close();
  });
});
