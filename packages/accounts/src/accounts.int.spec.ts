/** Sign-up, sign-in, sessions and the login limits against the real Mongo-wire server of the local stack. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { verifyToken } from '@pushtech/auth';
import { connectMongo, type Db, type MongoClient } from '@pushtech/mongo';
import { stackAddresses, startLocalIssuer, uniqueName, waitFor } from '@pushtech/testing';
import { createHash } from 'node:crypto';
import type { AccountsOptions } from './plugin.ts';
import { ACCOUNTS, SESSIONS, deleteExpiredSessions, ensureAccountIndexes, findSession, openSession, type AccountDocument, type SessionDocument } from './store.ts';
import { Browser, TEST_SECRET, testApp } from './test-app.ts';

let client: MongoClient;
let db: Db;
const apps: FastifyInstance[] = [];
const PASSWORD = 'correct horse battery';

async function app(options: Partial<AccountsOptions> = {}): Promise<FastifyInstance> {
  const made = await testApp({ db: () => db, ...options });
  apps.push(made);
  return made;
}

function findSessionDocument(cookieValue: string) {
  return db.collection<SessionDocument>(SESSIONS).findOne({ _id: createHash('sha256').update(cookieValue).digest('base64url') });
}

/** A fresh address per test: the accounts live in one database for the whole file. */
const email = (name: string) => `${name}.${uniqueName('')}@example.org`;

beforeAll(async () => {
  client = await connectMongo(stackAddresses().mongoUrl, { appName: 'accounts-test' });
  db = client.db(uniqueName('accountstest'));
  await ensureAccountIndexes(db);
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await db.dropDatabase();
  await client.close();
});

describe('sign-up, sign-in, sign-out', () => {
  it('sign-up creates the account (scrypt hash, no password), signs in with an httpOnly session cookie and a new CSRF token', async () => {
    const browser = new Browser(await app());
    await browser.loadPage();
    const before = browser.csrfToken;
    const address = email('Ann');
    const response = await browser.signUp(` ${address.toUpperCase()} `, PASSWORD);
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toEqual({ userId: expect.stringMatching(/^[0-9a-f-]{36}$/), email: address.toLowerCase(), csrfToken: expect.any(String) });
    expect(body.csrfToken).not.toBe(before);
    expect(response.headers['set-cookie']).toEqual([
      expect.stringMatching(/^pt_session=[\w-]{43}; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/),
      expect.stringMatching(/^pt_csrf=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/),
    ]);

    const stored = await db.collection<AccountDocument>(ACCOUNTS).findOne({ _id: address.toLowerCase() });
    expect(stored?.userId).toBe(body.userId);
    expect(stored?.passwordHash).toMatch(/^scrypt\$10\$8\$1\$/);
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);
    // The database keeps the cookie's hash, not the cookie.
    const cookie = browser.cookies.get('pt_session')!;
    expect(await db.collection<SessionDocument>(SESSIONS).findOne({ _id: cookie })).toBeNull();
    expect((await findSession(db, cookie))?.userId).toBe(body.userId);

    const me = await browser.request({ method: 'GET', url: '/account/me' });
    expect(me.json()).toEqual({ userId: body.userId, email: address.toLowerCase(), csrfToken: body.csrfToken });
    expect((await browser.request({ method: 'GET', url: '/site/whoami' })).json()).toEqual({ userId: body.userId, email: address.toLowerCase(), via: 'cookie' });
  });

  it('in Secure mode the cookies are __Host- prefixed and Secure, and the whole flow works with them', async () => {
    const browser = new Browser(await app({ cookie: { secure: true } }));
    await browser.loadPage();
    const response = await browser.signUp(email('sec'), PASSWORD);
    expect(response.headers['set-cookie']).toEqual([
      expect.stringMatching(/^__Host-pt_session=[\w-]{43}; Max-Age=2592000; Path=\/; HttpOnly; Secure; SameSite=Lax$/),
      expect.stringMatching(/^__Host-pt_csrf=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/),
    ]);
    expect((await browser.request({ method: 'GET', url: '/account/me' })).json().userId).toBe(response.json().userId);
    expect((await browser.request({ method: 'POST', url: '/account/signout' })).statusCode).toBe(204);
    expect([...browser.cookies.keys()]).toEqual(['__Host-pt_csrf']);
  });

  it('sign-up of an address that has an account is a 409 on the email field, whatever its case; the account is unchanged', async () => {
    const a = await app();
    const first = new Browser(a);
    await first.loadPage();
    const address = email('ben');
    const created = (await first.signUp(address, PASSWORD)).json();
    const second = new Browser(a);
    await second.loadPage();
    const again = await second.signUp(address.toUpperCase(), 'another password 123');
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ error: 'conflict', errors: [{ field: 'email', rule: 'cannot be used to sign up: sign in, or use another address' }] });
    expect(second.cookies.has('pt_session')).toBe(false);
    expect((await second.signIn(address, PASSWORD)).json().userId).toBe(created.userId);
  });

  it('bad input names each field and rule (400), before anything is hashed or stored', async () => {
    const browser = new Browser(await app());
    await browser.loadPage();
    const response = await browser.signUp('not-an-email', 'short');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_request', errors: [
      { field: 'email', rule: 'must be an email address (name@example.org)' },
      { field: 'password', rule: 'must be at least 12 characters' },
    ] });
    expect(await db.collection<AccountDocument>(ACCOUNTS).findOne({ _id: 'not-an-email' })).toBeNull();
  });

  it('sign-up and sign-in need the CSRF token (no login CSRF)', async () => {
    const browser = new Browser(await app());
    const response = await browser.signUp(email('eve'), PASSWORD);
    expect(response.statusCode).toBe(403);
    await browser.loadPage();
    expect((await browser.request({ method: 'POST', url: '/account/signin', payload: { email: email('eve'), password: PASSWORD }, csrf: false })).statusCode).toBe(403);
  });

  it('a wrong password and an unknown email get the same answer', async () => {
    const a = await app();
    const owner = new Browser(a);
    await owner.loadPage();
    const address = email('cy');
    await owner.signUp(address, PASSWORD);
    const guesser = new Browser(a, '203.0.113.50');
    await guesser.loadPage();
    const wrongPassword = await guesser.signIn(address, 'wrong password 1');
    const unknownEmail = await guesser.signIn(email('nobody'), 'wrong password 1');
    for (const response of [wrongPassword, unknownEmail]) {
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: 'unauthorized', errors: [{ field: 'credentials', rule: 'email or password is wrong' }] });
    }
    expect(guesser.cookies.has('pt_session')).toBe(false);
  });

  it('sign-in opens a new session (the one presented is closed), sign-out closes it on the server', async () => {
    const a = await app();
    const browser = new Browser(a);
    await browser.loadPage();
    const address = email('dee');
    const { userId } = (await browser.signUp(address, PASSWORD)).json();
    const firstCookie = browser.cookies.get('pt_session')!;
    const signedIn = await browser.signIn(address, PASSWORD);
    expect(signedIn.json()).toMatchObject({ userId, email: address });
    const secondCookie = browser.cookies.get('pt_session')!;
    expect(secondCookie).not.toBe(firstCookie);
    expect(await findSession(db, firstCookie)).toBeUndefined();

    const signOut = await browser.request({ method: 'POST', url: '/account/signout' });
    expect(signOut.statusCode).toBe(204);
    expect(signOut.headers['set-cookie']).toEqual([expect.stringMatching(/^pt_session=; Max-Age=0;/)]);
    expect(browser.cookies.has('pt_session')).toBe(false);
    // Replaying the cookie after sign-out: the session is gone on the server, not only in the browser.
    const replay = new Browser(a);
    replay.cookies.set('pt_session', secondCookie);
    expect((await replay.request({ method: 'GET', url: '/account/me' })).statusCode).toBe(401);
    expect(await findSession(db, secondCookie)).toBeUndefined();
    // Signing out again (no session) is still a 204.
    expect((await browser.request({ method: 'POST', url: '/account/signout' })).statusCode).toBe(204);
  });

  it('POST /account/token: a short-lived HS256 token whose sub is the user, as storage and the imageserver verify', async () => {
    const browser = new Browser(await app({ accessTokenTtlS: 60 }));
    await browser.loadPage();
    const { userId } = (await browser.signUp(email('fay'), PASSWORD)).json();
    expect((await browser.request({ method: 'POST', url: '/account/token', csrf: false })).statusCode).toBe(403);
    const response = await browser.request({ method: 'POST', url: '/account/token' });
    const body = response.json();
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 60 });
    expect(await verifyToken(body.token, TEST_SECRET)).toEqual({ ok: true, userId });
    expect(response.headers['cache-control']).toBe('no-store');
    const signedOut = new Browser(await app());
    await signedOut.loadPage();
    expect((await signedOut.request({ method: 'POST', url: '/account/token' })).statusCode).toBe(401);
  });

  it('a hash made with older parameters is replaced by one with the current ones at the next sign-in', async () => {
    const address = email('gus');
    const old = new Browser(await app({ scrypt: { log2N: 10, r: 8, p: 1 } }));
    await old.loadPage();
    await old.signUp(address, PASSWORD);
    const current = new Browser(await app({ scrypt: { log2N: 11, r: 8, p: 1 } }));
    await current.loadPage();
    expect((await current.signIn(address, PASSWORD)).statusCode).toBe(200);
    expect((await db.collection<AccountDocument>(ACCOUNTS).findOne({ _id: address }))?.passwordHash).toMatch(/^scrypt\$11\$/);
    expect((await current.signIn(address, PASSWORD)).statusCode).toBe(200);
  });

  it('with OIDC: POST /account/oidc turns an issuer token into a cookie session for oidc:<sub>', async () => {
    const idp = await startLocalIssuer('site');
    try {
      const browser = new Browser(await app({ oidc: { issuer: idp.issuer, audience: 'site' } }));
      const token = await idp.sign({ sub: 'zoe', email: 'zoe@example.org', email_verified: true });
      const response = await browser.request({ method: 'POST', url: '/account/oidc', headers: { authorization: `Bearer ${token}` } });
      expect(response.json()).toMatchObject({ userId: 'oidc:zoe', email: 'zoe@example.org' });
      expect((await browser.request({ method: 'GET', url: '/site/whoami' })).json()).toEqual({ userId: 'oidc:zoe', email: 'zoe@example.org', via: 'cookie' });
      const ours = new Browser(browser.app);
      const hs = await ours.request({ method: 'POST', url: '/account/token', headers: { authorization: `Bearer ${(await (await browser.request({ method: 'POST', url: '/account/token' })).json()).token}` } });
      expect((await ours.request({ method: 'POST', url: '/account/oidc', headers: { authorization: `Bearer ${hs.json().token}` } })).json().errors).toEqual([{ field: 'authorization', rule: 'must be a token of the OIDC issuer' }]);
    } finally {
      await idp.close();
    }
  });
});

describe('sessions in Mongo', () => {
  it('an expired session is nobody, and is deleted when presented or by the sweep', async () => {
    const browser = new Browser(await app());
    const expired = await openSession(db, 'user-x', 'x@example.org', -1);
    browser.cookies.set('pt_session', expired);
    expect((await browser.request({ method: 'GET', url: '/account/me' })).statusCode).toBe(401);
    expect(await db.collection(SESSIONS).countDocuments({ userId: 'user-x' })).toBe(0);
    await openSession(db, 'user-y', null, -1);
    await openSession(db, 'user-z', null, 60_000);
    expect(await deleteExpiredSessions(db)).toBeGreaterThanOrEqual(1);
    expect(await db.collection(SESSIONS).countDocuments({ userId: { $in: ['user-y', 'user-z'] } })).toBe(1);
  });

  it('the hourly sweep (here every 20 ms) deletes sessions nobody came back with', async () => {
    const stale = await openSession(db, 'user-stale', null, -1);
    await app({ sweepIntervalMs: 20 });
    await waitFor(async () => ((await findSessionDocument(stale)) === null ? true : undefined), 'the sweep');
  });

  it('the indexes are created once and creating them again changes nothing', async () => {
    await ensureAccountIndexes(db);
    const names = (await db.collection(ACCOUNTS).indexes()).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['_id_', 'userId_unique']));
  });
});

describe('login rate limits', () => {
  it('per account: after the limit, 429 with Retry-After even with the right password; the same for an unknown email', async () => {
    const registry = new Registry();
    const a = await app({ limits: { perAccount: 3, perIp: 1000, windowS: 600 }, registry });
    const owner = new Browser(a);
    await owner.loadPage();
    const address = email('hal');
    await owner.signUp(address, PASSWORD);
    const attacker = new Browser(a, '198.51.100.7');
    await attacker.loadPage();
    for (let i = 0; i < 3; i++) expect((await attacker.signIn(address, `guess number ${i}`)).statusCode).toBe(401);
    const limited = await attacker.signIn(address, PASSWORD);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('200');
    expect(limited.json()).toEqual({ error: 'too_many_attempts', errors: [{ field: 'email', rule: 'too many attempts: retry in 200 s' }] });
    // From another address too: the limit is the account's.
    const elsewhere = new Browser(a, '198.51.100.8');
    await elsewhere.loadPage();
    expect((await elsewhere.signIn(address, PASSWORD)).statusCode).toBe(429);
    // An address without an account is limited the same way: the 429 tells nothing about existence.
    const ghost = email('ghost');
    const ghostAnswers = [];
    for (let i = 0; i < 4; i++) ghostAnswers.push((await attacker.signIn(ghost, `guess number ${i}`)).statusCode);
    expect(ghostAnswers).toEqual([401, 401, 401, 429]);
    const counted = (await registry.getSingleMetric('accounts_attempts_total')!.get()).values.map((v) => [v.labels.action, v.labels.outcome, v.value]);
    expect(counted).toEqual(expect.arrayContaining([['signup', 'ok', 1], ['signin', 'wrong', 6], ['signin', 'limited', 3]]));
  });

  it('a successful sign-in clears the account\'s failed attempts', async () => {
    const a = await app({ limits: { perAccount: 3, perIp: 1000, windowS: 600 } });
    const browser = new Browser(a);
    await browser.loadPage();
    const address = email('ida');
    await browser.signUp(address, PASSWORD);
    for (let i = 0; i < 2; i++) await browser.signIn(address, 'wrong password 1');
    expect((await browser.signIn(address, PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < 2; i++) expect((await browser.signIn(address, 'wrong password 1')).statusCode).toBe(401);
    expect((await browser.signIn(address, PASSWORD)).statusCode).toBe(200);
  });

  it('per IP: sign-ins and sign-ups from one address, whatever the emails; another address is not affected', async () => {
    const a = await app({ limits: { perAccount: 100, perIp: 4, windowS: 600 } });
    const sprayer = new Browser(a, '2001:db8:7:7::1');
    await sprayer.loadPage();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await sprayer.signIn(email(`spray${i}`), 'wrong password 1')).statusCode);
    answers.push((await sprayer.signUp(email('spray-new'), PASSWORD)).statusCode);
    const sameSlash64 = new Browser(a, '2001:db8:7:7:ffff::2');
    await sameSlash64.loadPage();
    const limited = await sameSlash64.signIn(email('spray-last'), 'wrong password 1');
    expect([...answers, limited.statusCode]).toEqual([401, 401, 401, 201, 429]);
    expect(limited.json().errors).toEqual([{ field: 'client', rule: 'too many attempts: retry in 150 s' }]);
    expect((await sameSlash64.signUp(email('spray-more'), PASSWORD)).statusCode).toBe(429);
    const neighbour = new Browser(a, '2001:db8:7:8::1');
    await neighbour.loadPage();
    expect((await neighbour.signIn(email('spray0'), 'wrong password 1')).statusCode).toBe(401);
  });
});
