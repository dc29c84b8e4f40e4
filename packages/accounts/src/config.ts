/** The environment variables of the accounts, for the website's config spec (see README). */
import { bool, ConfigError, int, secret, string, url, type ConfigOf, type Reader } from '@pushtech/config';
import { JWT_SECRET_MIN_LENGTH } from '@pushtech/auth';
import type { AccountsOptions } from './plugin.ts';

/** A variable that may be left unset (undefined then). */
function optional<T>(inner: Reader<T>, what: string): Reader<T | undefined> {
  return {
    read: (name, raw) => (raw === undefined || raw.trim() === '' ? undefined : inner.read(name, raw)),
    describe: () => `${what} (optional)`,
  };
}

export function accountsConfig() {
  return {
    JWT_SECRET: secret({ minLength: JWT_SECRET_MIN_LENGTH }),
    COOKIE_SECURE: bool({ default: true }),
    SESSION_TTL_S: int({ min: 60, default: 30 * 24 * 3600 }),
    ACCESS_TOKEN_TTL_S: int({ min: 30, max: 24 * 3600, default: 300 }),
    LOGIN_LIMIT_PER_ACCOUNT: int({ min: 1, default: 10 }),
    LOGIN_LIMIT_PER_IP: int({ min: 1, default: 100 }),
    LOGIN_LIMIT_WINDOW_S: int({ min: 1, default: 900 }),
    RATE_LIMIT_MAX_KEYS: int({ min: 100, default: 100_000 }),
    PASSWORD_SCRYPT_LOG2_N: int({ min: 10, max: 20, default: 15 }),
    OIDC_ISSUER: optional(url({ protocols: ['https:', 'http:'] }), 'the issuer URL of an external OpenID Connect provider'),
    OIDC_AUDIENCE: optional(string(), 'the audience (aud) its tokens must carry'),
    OIDC_JWKS_URL: optional(url({ protocols: ['https:', 'http:'] }), 'its JWKS URL (default: from the issuer\'s discovery document)'),
  };
}

export type AccountsConfig = ConfigOf<ReturnType<typeof accountsConfig>>;

/** The rule between the variables: OIDC_ISSUER and OIDC_AUDIENCE come together. */
export function checkAccountsConfig(config: AccountsConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (config.OIDC_ISSUER !== undefined && config.OIDC_AUDIENCE === undefined) errors.push(new ConfigError('OIDC_AUDIENCE', 'is required when OIDC_ISSUER is set'));
  if (config.OIDC_AUDIENCE !== undefined && config.OIDC_ISSUER === undefined) errors.push(new ConfigError('OIDC_ISSUER', 'is required when OIDC_AUDIENCE is set'));
  if (config.OIDC_JWKS_URL !== undefined && config.OIDC_ISSUER === undefined) errors.push(new ConfigError('OIDC_ISSUER', 'is required when OIDC_JWKS_URL is set'));
  return errors;
}

/** The plugin's options from the config; the website adds `db`. */
export function accountsOptionsFrom(config: AccountsConfig): Omit<AccountsOptions, 'db'> {
  return {
    jwtSecret: config.JWT_SECRET,
    cookie: { secure: config.COOKIE_SECURE },
    sessionTtlS: config.SESSION_TTL_S,
    accessTokenTtlS: config.ACCESS_TOKEN_TTL_S,
    limits: { perAccount: config.LOGIN_LIMIT_PER_ACCOUNT, perIp: config.LOGIN_LIMIT_PER_IP, windowS: config.LOGIN_LIMIT_WINDOW_S, maxKeys: config.RATE_LIMIT_MAX_KEYS },
    scrypt: { log2N: config.PASSWORD_SCRYPT_LOG2_N, r: 8, p: 3 },
    ...(config.OIDC_ISSUER !== undefined && config.OIDC_AUDIENCE !== undefined
      ? { oidc: { issuer: config.OIDC_ISSUER, audience: config.OIDC_AUDIENCE, ...(config.OIDC_JWKS_URL === undefined ? {} : { jwksUrl: config.OIDC_JWKS_URL }) } }
      : {}),
  };
}
