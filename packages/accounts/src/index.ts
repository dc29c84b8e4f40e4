export { accountsPlugin, DEFAULT_LIMITS, type AccountsOptions, type LoginLimits } from './plugin.ts';
export { sessionOf, requireSession, csrfTokenOf, OIDC_USER_PREFIX, type Session } from './session.ts';
export { accountsConfig, accountsOptionsFrom, checkAccountsConfig, type AccountsConfig } from './config.ts';
export { ensureAccountIndexes, ACCOUNTS, SESSIONS } from './store.ts';
export { CSRF_FIELD, CSRF_HEADER } from './csrf.ts';
export { cookieName, type CookieOptions } from './cookies.ts';
export { hashPassword, verifyPassword, DEFAULT_SCRYPT, type ScryptParams } from './password.ts';
export { createOidcVerifier, type OidcOptions } from './oidc.ts';
export { AttemptLimiter, clientKey } from './rate-limit.ts';
