/**
 * CSRF protection, "signed double submit": the browser holds a random secret in an httpOnly
 * cookie; the token a write must carry (header `x-csrf-token`, or `_csrf` in a form's body)
 * is HMAC-SHA256(key, that secret). Another site can make the browser send the cookie but
 * can neither read it nor the page's token, and cannot compute the HMAC without the key;
 * with the `__Host-` prefix (Secure mode) it cannot plant a cookie of its own either.
 * Nothing is stored on the server.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '@pushtech/service';
import { readCookie, writeCookie, type CookieOptions } from './cookies.ts';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A key of its own for CSRF tokens, derived from the JWT secret (no second secret to configure). */
export function csrfKey(jwtSecret: string): Buffer {
  return createHmac('sha256', jwtSecret).update('pushtech accounts: csrf tokens').digest();
}

export function csrfTokenFor(key: Buffer, cookieValue: string): string {
  return createHmac('sha256', key).update(cookieValue).digest('base64url');
}

/** The token of the request's CSRF cookie; a new cookie is set first when there is none (or `rotate`). */
export function issueCsrfToken(request: FastifyRequest, reply: FastifyReply, key: Buffer, cookies: CookieOptions, rotate = false): string {
  let value = rotate ? undefined : readCookie(request, 'csrf', cookies);
  if (value === undefined) {
    value = randomBytes(32).toString('base64url');
    writeCookie(reply, 'csrf', value, undefined, cookies);
  }
  return csrfTokenFor(key, value);
}

function sentToken(request: FastifyRequest): string | undefined {
  const header = request.headers[CSRF_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const body = request.body;
  if (typeof body === 'object' && body !== null && CSRF_FIELD in body) {
    const field = (body as Record<string, unknown>)[CSRF_FIELD];
    if (typeof field === 'string' && field !== '') return field;
  }
  return undefined;
}

/**
 * Whether a request must carry the token: every write, except one that brings its own
 * `Authorization` and no session cookie (a header another site cannot make a browser send).
 */
export function needsCsrfCheck(request: FastifyRequest, cookies: CookieOptions): boolean {
  if (!UNSAFE_METHODS.has(request.method)) return false;
  return request.headers.authorization === undefined || readCookie(request, 'session', cookies) !== undefined;
}

/** Throws 403 `forbidden` naming what is missing or wrong. */
export function checkCsrf(request: FastifyRequest, key: Buffer, cookies: CookieOptions): void {
  const forbidden = (rule: string) => new ApiError(403, 'forbidden', [{ field: CSRF_HEADER, rule }]);
  const cookie = readCookie(request, 'csrf', cookies);
  if (cookie === undefined) throw forbidden('needs the CSRF cookie: load a page or GET /account/csrf first');
  const sent = sentToken(request);
  if (sent === undefined) throw forbidden(`is required on writes (or the form field ${CSRF_FIELD}): the token from GET /account/csrf`);
  const expected = Buffer.from(csrfTokenFor(key, cookie));
  const given = Buffer.from(sent);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw forbidden('does not match the CSRF cookie');
}
