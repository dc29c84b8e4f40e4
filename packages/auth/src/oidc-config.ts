/**
 * The environment variables that turn on tokens of the operator's OIDC issuer, shared by every
 * service that takes them (the website, storage, the imageserver), with the rule between them.
 */
import { ConfigError, string, url, type ConfigOf, type Reader } from '@pushtech/config';
import { createOidcVerifier, type OidcOptions, type OidcVerifier } from './oidc.ts';

/** A variable that may be left unset (undefined then). */
function optional<T>(inner: Reader<T>, what: string): Reader<T | undefined> {
  return {
    read: (name, raw) => (raw === undefined || raw.trim() === '' ? undefined : inner.read(name, raw)),
    describe: () => `${what} (optional)`,
  };
}

export function oidcConfig() {
  return {
    OIDC_ISSUER: optional(url({ protocols: ['https:', 'http:'] }), 'the issuer URL of an external OpenID Connect provider'),
    OIDC_AUDIENCE: optional(string(), 'the audience (aud) its tokens must carry'),
    OIDC_JWKS_URL: optional(url({ protocols: ['https:', 'http:'] }), 'its JWKS URL (default: from the issuer\'s discovery document)'),
  };
}

export type OidcConfig = ConfigOf<ReturnType<typeof oidcConfig>>;

/** The rule between the variables: OIDC_ISSUER and OIDC_AUDIENCE come together. */
export function checkOidcConfig(config: OidcConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (config.OIDC_ISSUER !== undefined && config.OIDC_AUDIENCE === undefined) errors.push(new ConfigError('OIDC_AUDIENCE', 'is required when OIDC_ISSUER is set'));
  if (config.OIDC_AUDIENCE !== undefined && config.OIDC_ISSUER === undefined) errors.push(new ConfigError('OIDC_ISSUER', 'is required when OIDC_AUDIENCE is set'));
  if (config.OIDC_JWKS_URL !== undefined && config.OIDC_ISSUER === undefined) errors.push(new ConfigError('OIDC_ISSUER', 'is required when OIDC_JWKS_URL is set'));
  return errors;
}

/** The verifier's options, or undefined when OIDC is not configured. */
export function oidcOptionsFrom(config: OidcConfig): OidcOptions | undefined {
  if (config.OIDC_ISSUER === undefined || config.OIDC_AUDIENCE === undefined) return undefined;
  return { issuer: config.OIDC_ISSUER, audience: config.OIDC_AUDIENCE, ...(config.OIDC_JWKS_URL === undefined ? {} : { jwksUrl: config.OIDC_JWKS_URL }) };
}

/** The verifier of the configured issuer's tokens, or undefined when OIDC is not configured. */
export function oidcVerifierFrom(config: OidcConfig): OidcVerifier | undefined {
  const options = oidcOptionsFrom(config);
  return options === undefined ? undefined : createOidcVerifier(options);
}
