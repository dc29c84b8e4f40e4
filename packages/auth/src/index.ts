/**
 * Bearer tokens: HS256 JWTs whose `sub` is the user id. Writes need one; the
 * owner of a listing is the `sub` of the token that created it.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const JWT_ALGORITHM = 'HS256';
export const JWT_SECRET_MIN_LENGTH = 32;
export const DEFAULT_TOKEN_LIFETIME = '30d';

function key(secret: string): Uint8Array {
  if (secret.length < JWT_SECRET_MIN_LENGTH) throw new Error(`the JWT secret must be at least ${JWT_SECRET_MIN_LENGTH} characters`);
  return new TextEncoder().encode(secret);
}

/**
 * A token for `userId`, valid for `expiresIn` (jose's time span: `30d`, `2h`, `90s`,
 * or seconds since the epoch as a number).
 */
export async function signToken(userId: string, secret: string, options: { expiresIn?: string | number } = {}): Promise<string> {
  if (userId.trim() === '') throw new Error('the user id must not be empty');
  return new SignJWT({})
    .setProtectedHeader({ alg: JWT_ALGORITHM, typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? DEFAULT_TOKEN_LIFETIME)
    .sign(key(secret));
}

export type TokenCheck = { ok: true; userId: string } | { ok: false; reason: string };

/** Checks the signature (HS256 only), the expiry and that there is a `sub`. */
export async function verifyToken(token: string, secret: string): Promise<TokenCheck> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { algorithms: [JWT_ALGORITHM] });
    if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, reason: 'the token has no sub (user id)' };
    return { ok: true, userId: payload.sub };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: 'the token has expired' };
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, reason: 'the token signature is not valid' };
    if (err instanceof joseErrors.JOSEAlgNotAllowed) return { ok: false, reason: `the token must be signed with ${JWT_ALGORITHM}` };
    if (err instanceof joseErrors.JOSEError) return { ok: false, reason: `the token is not valid: ${err.code}` };
    throw err;
  }
}

const BEARER = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i;

/**
 * The user id of the request's bearer token, or undefined after answering 401
 * (JSON body naming the rule, `WWW-Authenticate: Bearer` as RFC 6750 asks).
 */
export async function authenticate(request: FastifyRequest, reply: FastifyReply, secret: string): Promise<string | undefined> {
  const header = request.headers.authorization;
  const match = header === undefined ? null : BEARER.exec(header);
  if (match === null) {
    const rule = header === undefined ? 'is required: Bearer <token>' : 'must be Bearer <token> (a JWT)';
    unauthorized(reply, rule, header === undefined ? undefined : 'invalid_request');
    return undefined;
  }
  const check = await verifyToken(match[1]!, secret);
  if (!check.ok) {
    unauthorized(reply, check.reason, 'invalid_token');
    return undefined;
  }
  return check.userId;
}

function unauthorized(reply: FastifyReply, rule: string, error?: 'invalid_request' | 'invalid_token'): void {
  const challenge = error === undefined ? 'Bearer realm="pushtech"' : `Bearer realm="pushtech", error="${error}", error_description="${rule.replaceAll('"', "'")}"`;
  reply.code(401).header('www-authenticate', challenge).send({ error: 'unauthorized', errors: [{ field: 'authorization', rule }] });
}
