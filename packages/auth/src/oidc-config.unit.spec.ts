import { describe, expect, it } from 'vitest';
import { ConfigErrors, loadConfig } from '@pushtech/config';
import { checkOidcConfig, oidcConfig, oidcOptionsFrom } from './oidc-config.ts';

const load = (env: Record<string, string>) => loadConfig(oidcConfig(), env, checkOidcConfig);

function brokenRules(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigErrors) return err.errors.map((e) => e.message);
    throw err;
  }
  return [];
}

describe('the OIDC variables', () => {
  it('unset: no OIDC', () => {
    expect(oidcOptionsFrom(load({}))).toBeUndefined();
  });

  it('the issuer and the audience make the options; the JWKS URL is optional', () => {
    expect(oidcOptionsFrom(load({ OIDC_ISSUER: 'https://idp.example', OIDC_AUDIENCE: 'app' }))).toEqual({ issuer: 'https://idp.example', audience: 'app' });
    expect(oidcOptionsFrom(load({ OIDC_ISSUER: 'https://idp.example', OIDC_AUDIENCE: 'app', OIDC_JWKS_URL: 'https://idp.example/keys' })))
      .toEqual({ issuer: 'https://idp.example', audience: 'app', jwksUrl: 'https://idp.example/keys' });
  });

  it('come together: each missing one is named', () => {
    expect(brokenRules({ OIDC_ISSUER: 'https://idp.example' })).toEqual(['OIDC_AUDIENCE is required when OIDC_ISSUER is set']);
    expect(brokenRules({ OIDC_AUDIENCE: 'app' })).toEqual(['OIDC_ISSUER is required when OIDC_AUDIENCE is set']);
    expect(brokenRules({ OIDC_JWKS_URL: 'https://idp.example/keys' })).toEqual(['OIDC_ISSUER is required when OIDC_JWKS_URL is set']);
    expect(brokenRules({ OIDC_ISSUER: 'ftp://idp.example', OIDC_AUDIENCE: 'app' })).toEqual([expect.stringMatching(/^OIDC_ISSUER must be/)]);
  });
});
