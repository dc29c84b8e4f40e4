/**
 * Who a request is: a bearer token in `Authorization` (ours, HS256; or the external OIDC
 * issuer's, RS256/ES256), else the session cookie. Resolved once per request, on demand.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OidcUnavailableError, signToken, verifyBearerToken, type OidcVerifier } from '@pushtech/auth';
import { ApiError, UnavailableError } from '@pushtech/service';
import type { Db } from '@pushtech/mongo';
import { readCookie, type CookieOptions } from './cookies.ts';
import { hasBearer, issueCsrfToken } from './csrf.ts';
import { findSession } from './store.ts';

export interface Session {
  userId: string;
  /** The account's email; for a bearer token, null (an OIDC token's verified `email` claim if it has one). */
  email: string | null;
  via: 'cookie' | 'bearer' | 'oidc';
  /** A short-lived HS256 bearer JWT (sub = userId) for calls to storage and the imageserver. */
  accessToken(): Promise<string>;
}

export interface SessionContext {
  db: () => Db | undefined;
  jwtSecret: string;
  cookie: CookieOptions;
  accessTokenTtlS: number;
  oidc: OidcVerifier | undefined;
  csrfKey: Buffer;
}

const contexts = new WeakMap<FastifyRequest, SessionContext>();
const resolved = new WeakMap<FastifyRequest, Promise<Session | null>>();

/** The plugin's onRequest hook: the request can now be asked who it is. */
export function attachSessionContext(request: FastifyRequest, context: SessionContext): void {
  contexts.set(request, context);
}

export function dbOf(context: Pick<SessionContext, 'db'>): Db {
  const db = context.db();
  if (db === undefined) throw new UnavailableError('mongo');
  return db;
}

const BEARER = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i;

function unauthorized(rule: string): ApiError {
  return new ApiError(401, 'unauthorized', [{ field: 'authorization', rule }]);
}

function makeSession(userId: string, email: string | null, via: Session['via'], context: SessionContext): Session {
  return { userId, email, via, accessToken: () => signToken(userId, context.jwtSecret, { expiresIn: `${context.accessTokenTtlS}s` }) };
}

async function fromBearer(header: string, context: SessionContext): Promise<Session> {
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) throw unauthorized('must be Bearer <token> (a JWT)');
  const check = await verifyBearerToken(token, context.jwtSecret, context.oidc).catch((err: unknown) => {
    throw err instanceof OidcUnavailableError ? new UnavailableError('the OIDC issuer', err.cause) : err;
  });
  if (!check.ok) throw unauthorized(check.reason);
  return makeSession(check.userId, check.email, check.via, context);
}

async function resolve(request: FastifyRequest, context: SessionContext): Promise<Session | null> {
  // Only the Bearer scheme is ours: Basic credentials (an nginx guarding a staging site) pass by.
  if (hasBearer(request)) return fromBearer(request.headers.authorization!, context);
  const cookie = readCookie(request, 'session', context.cookie);
  if (cookie === undefined) return null;
  const session = await findSession(dbOf(context), cookie);
  return session === undefined ? null : makeSession(session.userId, session.email, 'cookie', context);
}

/**
 * Who sent the request, or null for nobody. A request with an `Authorization: Bearer` header
 * that is not a valid token is refused (401 naming the reason) rather than taken as anonymous.
 */
function contextOf(request: FastifyRequest, caller: string): SessionContext {
  const context = contexts.get(request);
  if (context === undefined) throw new Error(`${caller}: the accounts plugin is not registered for this route (register it before the routes, with app.register)`);
  return context;
}

export function sessionOf(request: FastifyRequest): Promise<Session | null> {
  const context = contextOf(request, 'sessionOf');
  let session = resolved.get(request);
  if (session === undefined) {
    session = resolve(request, context);
    resolved.set(request, session);
  }
  return session;
}

/** Like `sessionOf`, but nobody is a 401. */
export async function requireSession(request: FastifyRequest): Promise<Session> {
  const session = await sessionOf(request);
  if (session === null) throw new ApiError(401, 'unauthorized', [{ field: 'session', rule: 'is required: sign in first' }]);
  return session;
}

/**
 * The CSRF token for a page the server renders (a hidden `<input name="_csrf">` in each form, or
 * a `<meta>` the page's script reads); sets the CSRF cookie when the browser has none yet.
 */
export function csrfTokenOf(request: FastifyRequest, reply: FastifyReply): string {
  const context = contextOf(request, 'csrfTokenOf');
  return issueCsrfToken(request, reply, context.csrfKey, context.cookie);
}
