/**
 * Bearer tokens: ours, HS256 JWTs whose `sub` is the user id; and, when a service is configured
 * for it, the operator's OIDC issuer's (RS256/ES256), whose user is `oidc:<sub>`. Writes need
 * one; the owner of a listing is the user of the token that created it.
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OIDC_ALGORITHMS, OIDC_USER_PREFIX, type OidcVerifier } from './oidc.ts';

export { createOidcVerifier, discoverJwksUrl, OIDC_ALGORITHMS, OIDC_DEPENDENCY_ERRORS, OIDC_USER_PREFIX, OidcUnavailableError, type OidcCheck, type OidcOptions, type OidcVerifier } from './oidc.ts';
export { checkOidcConfig, oidcConfig, oidcOptionsFrom, oidcVerifierFrom, type OidcConfig } from './oidc-config.ts';

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

export type BearerCheck = { ok: true; userId: string; via: 'bearer' | 'oidc'; email: string | null } | { ok: false; reason: string };

/**
 * Checks a bearer token: ours (HS256) against `secret`, or, given `oidc`, the issuer's (RS256,
 * ES256), whose user is `oidc:<sub>` (with its verified email, if any). Throws
 * `OidcUnavailableError` when the issuer cannot be reached.
 */
export async function verifyBearerToken(token: string, secret: string, oidc?: OidcVerifier): Promise<BearerCheck> {
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return { ok: false, reason: 'must be Bearer <token> (a JWT)' };
  }
  // The header's alg picks the verifier, and each verifier accepts only its own algorithms: an
  // HS256 token "signed" with the issuer's public key meets our secret and fails; `none` meets neither.
  if (alg === JWT_ALGORITHM) {
    const check = await verifyToken(token, secret);
    return check.ok ? { ok: true, userId: check.userId, via: 'bearer', email: null } : check;
  }
  if (oidc !== undefined && OIDC_ALGORITHMS.includes(String(alg))) {
    const check = await oidc.verify(token);
    return check.ok ? { ok: true, userId: `${OIDC_USER_PREFIX}${check.subject}`, via: 'oidc', email: check.email } : check;
  }
  const accepted = oidc === undefined ? JWT_ALGORITHM : [JWT_ALGORITHM, ...OIDC_ALGORITHMS].join(', ');
  return { ok: false, reason: `the token must be signed with ${accepted}` };
}

const BEARER = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i;

/**
 * The user id of the request's bearer token (ours, or with `oidc` the issuer's too), or undefined
 * after answering 401 (JSON body naming the rule, `WWW-Authenticate: Bearer` as RFC 6750 asks).
 * An unreachable issuer throws `OidcUnavailableError`, for the service's error handler to answer 503.
 */
export async function authenticate(request: FastifyRequest, reply: FastifyReply, secret: string, oidc?: OidcVerifier): Promise<string | undefined> {
  const header = request.headers.authorization;
  const match = header === undefined ? null : BEARER.exec(header);
  if (match === null) {
    const rule = header === undefined ? 'is required: Bearer <token>' : 'must be Bearer <token> (a JWT)';
    unauthorized(reply, rule, header === undefined ? undefined : 'invalid_request');
    return undefined;
  }
  const check = await verifyBearerToken(match[1]!, secret, oidc);
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
