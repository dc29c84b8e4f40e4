/** The environment variables of the accounts, for the website's config spec (see README). */
import { bool, int, secret, type ConfigError, type ConfigOf } from '@pushtech/config';
import { checkOidcConfig, JWT_SECRET_MIN_LENGTH, oidcConfig, oidcOptionsFrom } from '@pushtech/auth';
import type { AccountsOptions } from './plugin.ts';

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
    ...oidcConfig(),
  };
}

export type AccountsConfig = ConfigOf<ReturnType<typeof accountsConfig>>;

/** The rules between the variables: those of OIDC (OIDC_ISSUER and OIDC_AUDIENCE come together). */
export function checkAccountsConfig(config: AccountsConfig): ConfigError[] {
  return checkOidcConfig(config);
}

/** The plugin's options from the config; the website adds `db`. */
export function accountsOptionsFrom(config: AccountsConfig): Omit<AccountsOptions, 'db'> {
  const oidc = oidcOptionsFrom(config);
  return {
    jwtSecret: config.JWT_SECRET,
    cookie: { secure: config.COOKIE_SECURE },
    sessionTtlS: config.SESSION_TTL_S,
    accessTokenTtlS: config.ACCESS_TOKEN_TTL_S,
    limits: { perAccount: config.LOGIN_LIMIT_PER_ACCOUNT, perIp: config.LOGIN_LIMIT_PER_IP, windowS: config.LOGIN_LIMIT_WINDOW_S, maxKeys: config.RATE_LIMIT_MAX_KEYS },
    scrypt: { log2N: config.PASSWORD_SCRYPT_LOG2_N, r: 8, p: 3 },
    ...(oidc === undefined ? {} : { oidc }),
  };
}
