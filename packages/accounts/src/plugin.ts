/**
 * The accounts as a Fastify plugin: sign-up, sign-in, sign-out, who am I, a short-lived bearer
 * token for the browser, an OIDC sign-in when configured, and the CSRF check of every write in
 * the scope it is registered in (it is not encapsulated: the website's own routes are covered).
 */
import type {} from '@fastify/swagger'; // the `tags` the routes' schemas carry
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { Registry } from 'prom-client';
import { createOidcVerifier, type OidcOptions } from '@pushtech/auth';
import type { Db } from '@pushtech/mongo';
import { ApiError, parseInput } from '@pushtech/service';
import { accountRoutesDoc } from './openapi.ts';
import { readCookie, writeCookie, type CookieOptions } from './cookies.ts';
import { checkCsrf, csrfKey, issueCsrfToken, needsCsrfCheck } from './csrf.ts';
import { signInBody, signUpBody } from './input.ts';
import { DEFAULT_SCRYPT, dummyHash, hashPassword, needsRehash, verifyPassword, type ScryptParams } from './password.ts';
import { createAccountMetrics } from './metrics.ts';
import { AttemptLimiter, clientKey } from './rate-limit.ts';
import { attachSessionContext, dbOf, requireSession, type SessionContext } from './session.ts';
import { closeSession, deleteExpiredSessions, findAccount, insertAccount, openSession, replacePasswordHash } from './store.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: this write route does not need the CSRF token (e.g. a webhook with its own authentication). */
    csrf?: boolean;
  }
}

export interface LoginLimits {
  /** Sign-in attempts per email per window. */
  perAccount: number;
  /** Sign-in and sign-up attempts per client address (IPv6: per /64) per window. */
  perIp: number;
  windowS: number;
  /** Keys each limiter remembers at most. */
  maxKeys: number;
}

export interface AccountsOptions {
  /** The Mongo database; undefined (not connected yet) answers 503 `unavailable`. */
  db: () => Db | undefined;
  /** The HS256 secret storage and the imageserver verify. */
  jwtSecret: string;
  cookie: CookieOptions;
  sessionTtlS?: number;
  accessTokenTtlS?: number;
  limits?: Partial<LoginLimits>;
  scrypt?: ScryptParams;
  oidc?: OidcOptions;
  /** How often expired sessions are deleted (default hourly; 0: never). */
  sweepIntervalMs?: number;
  now?: () => number;
  /** Where the counters go (the service's registry: defineService's `ctx.registry`). */
  registry?: Registry;
}

export const DEFAULT_LIMITS: LoginLimits = { perAccount: 10, perIp: 100, windowS: 900, maxKeys: 100_000 };
const CREDENTIALS_RULE = 'email or password is wrong';

function tooManyAttempts(field: string, retryAfterMs: number): ApiError {
  const retryAfterS = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiError(429, 'too_many_attempts', [{ field, rule: `too many attempts: retry in ${retryAfterS} s` }], { retryAfterS });
}

async function accounts(app: FastifyInstance, options: AccountsOptions): Promise<void> {
  const scryptParams = options.scrypt ?? DEFAULT_SCRYPT;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const sessionTtlS = options.sessionTtlS ?? 30 * 24 * 3600;
  const cookies = options.cookie;
  const key = csrfKey(options.jwtSecret);
  const windowMs = limits.windowS * 1000;
  const perAccount = new AttemptLimiter({ limit: limits.perAccount, windowMs, maxKeys: limits.maxKeys, ...(options.now ? { now: options.now } : {}) });
  const perIp = new AttemptLimiter({ limit: limits.perIp, windowMs, maxKeys: limits.maxKeys, ...(options.now ? { now: options.now } : {}) });
  const context: SessionContext = {
    db: options.db,
    jwtSecret: options.jwtSecret,
    cookie: cookies,
    accessTokenTtlS: options.accessTokenTtlS ?? 300,
    oidc: options.oidc === undefined ? undefined : createOidcVerifier(options.oidc),
    csrfKey: key,
  };
  // Made once, with the current parameters: what an unknown email's password is checked against.
  const dummy = await dummyHash(scryptParams);
  const metrics = createAccountMetrics(options.registry);

  app.addHook('onRequest', async (request) => attachSessionContext(request, context));
  app.addHook('preHandler', async (request) => {
    // A path with no route answers its 404 (or 405), not a 403.
    if (request.is404 || request.routeOptions.config.csrf === false || !needsCsrfCheck(request, cookies)) return;
    try {
      checkCsrf(request, key, cookies);
    } catch (err) {
      metrics.csrfRefusals.inc();
      throw err;
    }
  });

  const sweepIntervalMs = options.sweepIntervalMs ?? 3_600_000;
  if (sweepIntervalMs > 0) {
    const sweep = setInterval(() => {
      // `db` may throw (defineService's running() before start is done): this is no request to answer.
      Promise.resolve()
        .then(() => {
          const db = options.db();
          return db === undefined ? 0 : deleteExpiredSessions(db);
        })
        .then((deleted) => { if (deleted > 0) app.log.info({ deleted }, 'expired sessions deleted'); })
        .catch((err: unknown) => app.log.warn({ err }, 'could not delete expired sessions'));
    }, sweepIntervalMs);
    sweep.unref();
    app.addHook('onClose', async () => clearInterval(sweep));
  }

  function limit(limiter: AttemptLimiter, limiterKey: string, field: string, request: FastifyRequest, action: 'signup' | 'signin'): void {
    const decision = limiter.take(limiterKey);
    if (decision.allowed) return;
    metrics.attempts.inc({ action, outcome: 'limited' });
    request.log.info({ limiter: field, retryAfterMs: decision.retryAfterMs }, `${action} refused: rate limit`);
    throw tooManyAttempts(field, decision.retryAfterMs);
  }

  /** A new session (and a new CSRF cookie: nothing from before the sign-in stays valid after it). */
  async function signIn(request: FastifyRequest, reply: FastifyReply, userId: string, email: string | null) {
    const db = dbOf(context);
    const previous = readCookie(request, 'session', cookies);
    if (previous !== undefined) await closeSession(db, previous);
    const value = await openSession(db, userId, email, sessionTtlS * 1000);
    writeCookie(reply, 'session', value, sessionTtlS, cookies);
    return { userId, email, csrfToken: issueCsrfToken(request, reply, key, cookies, true) };
  }

  // Answers that carry tokens or who is signed in: never stored by a browser or a proxy cache.
  const noStore = { onRequest: async (_request: FastifyRequest, reply: FastifyReply) => { reply.header('cache-control', 'no-store'); } };

  app.get('/account/csrf', { ...noStore, ...accountRoutesDoc.csrf }, async (request, reply) => ({ csrfToken: issueCsrfToken(request, reply, key, cookies) }));

  app.post('/account/signup', { ...noStore, ...accountRoutesDoc.signup }, async (request, reply) => {
    const body = parseInput(signUpBody, request.body, 'body');
    limit(perIp, clientKey(request.ip), 'client', request, 'signup');
    // Hashed before the insert, so that an email with an account costs the same time as a new one.
    const passwordHash = await hashPassword(body.password, scryptParams);
    const account = await insertAccount(dbOf(context), body.email, passwordHash);
    // Without a mail round trip an address that has an account cannot look like a new one (the
    // new account would exist, or not): the answer says as little as it can. See README.
    metrics.attempts.inc({ action: 'signup', outcome: account === undefined ? 'conflict' : 'ok' });
    if (account === undefined) throw new ApiError(409, 'conflict', [{ field: 'email', rule: 'cannot be used to sign up: sign in, or use another address' }]);
    request.log.info({ userId: account.userId }, 'account created');
    return reply.code(201).send(await signIn(request, reply, account.userId, account._id));
  });

  app.post('/account/signin', { ...noStore, ...accountRoutesDoc.signin }, async (request, reply) => {
    const body = parseInput(signInBody, request.body, 'body');
    // Both limits come before the password is checked: a limited account answers 429 whether the
    // password is right or not, and whether the account exists or not.
    limit(perIp, clientKey(request.ip), 'client', request, 'signin');
    limit(perAccount, body.email, 'email', request, 'signin');
    const db = dbOf(context);
    const account = await findAccount(db, body.email);
    // The same scrypt work with or without an account (the dummy hash has the current parameters).
    const matches = await verifyPassword(body.password, account?.passwordHash ?? dummy);
    metrics.attempts.inc({ action: 'signin', outcome: account !== null && matches ? 'ok' : 'wrong' });
    if (account === null || !matches) throw new ApiError(401, 'unauthorized', [{ field: 'credentials', rule: CREDENTIALS_RULE }]);
    perAccount.reset(body.email);
    if (needsRehash(account.passwordHash, scryptParams)) {
      await replacePasswordHash(db, account._id, await hashPassword(body.password, scryptParams));
    }
    return signIn(request, reply, account.userId, account._id);
  });

  app.post('/account/signout', { ...noStore, ...accountRoutesDoc.signout }, async (request, reply) => {
    const value = readCookie(request, 'session', cookies);
    if (value !== undefined) await closeSession(dbOf(context), value);
    writeCookie(reply, 'session', '', 0, cookies);
    return reply.code(204).send();
  });

  app.get('/account/me', { ...noStore, ...accountRoutesDoc.me }, async (request, reply) => {
    const session = await requireSession(request);
    return { userId: session.userId, email: session.email, csrfToken: issueCsrfToken(request, reply, key, cookies) };
  });

  app.post('/account/token', { ...noStore, ...accountRoutesDoc.token }, async (request) => {
    const session = await requireSession(request);
    return { token: await session.accessToken(), tokenType: 'Bearer', expiresIn: context.accessTokenTtlS };
  });

  if (context.oidc !== undefined) {
    app.post('/account/oidc', { ...noStore, ...accountRoutesDoc.oidc }, async (request, reply) => {
      const session = await requireSession(request);
      if (session.via !== 'oidc') throw new ApiError(401, 'unauthorized', [{ field: 'authorization', rule: 'must be a token of the OIDC issuer' }]);
      return signIn(request, reply, session.userId, session.email);
    });
  }
}

/**
 * `await app.register(accountsPlugin, { db, jwtSecret, cookie, … })`: not encapsulated, so
 * `sessionOf` and the CSRF check work on the routes registered after it in the same scope.
 */
export const accountsPlugin = fastifyPlugin(accounts, { fastify: '5.x', name: '@pushtech/accounts' });
