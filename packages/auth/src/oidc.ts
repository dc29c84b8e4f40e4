/**
 * Tokens from an external OpenID Connect issuer (the operator's own identity provider):
 * RS256 or ES256 JWTs signed by a key of the issuer's JWKS, with the configured `iss` and
 * `aud`, not expired. The JWKS URL comes from the issuer's discovery document unless given.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';

export const OIDC_ALGORITHMS = ['RS256', 'ES256'];

/** The user id of someone signed in with the external OIDC issuer: its `sub`, apart from our own (UUID) ids. */
export const OIDC_USER_PREFIX = 'oidc:';

/**
 * The issuer (its discovery document or its JWKS) could not be reached: not the token's fault,
 * and worth a retry. A service answers it 503 (see `OIDC_DEPENDENCY_ERRORS`).
 */
export class OidcUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the OIDC issuer is not available: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'OidcUnavailableError';
  }
}

/** For @pushtech/service's `JsonErrorOptions.dependencyErrors`: an unreachable issuer is a 503 `unavailable` with `Retry-After`. */
export const OIDC_DEPENDENCY_ERRORS: Record<string, string> = { OidcUnavailableError: 'the OIDC issuer' };

export interface OidcOptions {
  issuer: string;
  audience: string;
  /** Skips discovery (`<issuer>/.well-known/openid-configuration`). */
  jwksUrl?: string;
  /** Tolerated clock difference with the issuer (default 30 s). */
  clockToleranceS?: number;
  fetchTimeoutMs?: number;
}

export type OidcCheck = { ok: true; subject: string; email: string | null } | { ok: false; reason: string };

export interface OidcVerifier {
  verify(token: string): Promise<OidcCheck>;
}

/** The JWKS URL an issuer publishes in its discovery document. */
export async function discoverJwksUrl(issuer: string, timeoutMs = 5_000): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // OpenID Connect Discovery §4.3: the document's issuer must be the one asked for.
  if (document.issuer !== issuer) throw new Error(`${url} names issuer ${JSON.stringify(document.issuer)}, not ${JSON.stringify(issuer)}`);
  if (typeof document.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
  return document.jwks_uri;
}

export function createOidcVerifier(options: OidcOptions): OidcVerifier {
  const timeoutMs = options.fetchTimeoutMs ?? 5_000;
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet = (): Promise<JWTVerifyGetKey> => {
    keys ??= (async () => createRemoteJWKSet(new URL(options.jwksUrl ?? (await discoverJwksUrl(options.issuer, timeoutMs))), { timeoutDuration: timeoutMs }))();
    // A failed discovery is tried again by the next request rather than remembered.
    keys.catch(() => { keys = undefined; });
    return keys;
  };
  return {
    async verify(token) {
      let getKey: JWTVerifyGetKey;
      try {
        getKey = await keySet();
      } catch (err) {
        throw new OidcUnavailableError(err);
      }
      try {
        const { payload } = await jwtVerify(token, getKey, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: OIDC_ALGORITHMS,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: options.clockToleranceS ?? 30,
        });
        if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, reason: 'the token has no sub' };
        const email = typeof payload.email === 'string' && payload.email_verified === true ? payload.email : null;
        return { ok: true, subject: payload.sub, email };
      } catch (err) {
        // The key set could not be fetched (timeout, connection refused: fetch's TypeError): not the token's fault.
        if (err instanceof joseErrors.JWKSTimeout || err instanceof TypeError) {
          throw new OidcUnavailableError(err);
        }
        if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: 'the token has expired' };
        if (err instanceof joseErrors.JWTClaimValidationFailed) return { ok: false, reason: `the token's ${err.claim} is not valid: ${err.reason}` };
        if (err instanceof joseErrors.JOSEAlgNotAllowed) return { ok: false, reason: `the token must be signed with ${OIDC_ALGORITHMS.join(' or ')}` };
        if (err instanceof joseErrors.JOSEError) return { ok: false, reason: `the token is not valid: ${err.code}` };
        throw err;
      }
    },
  };
}
