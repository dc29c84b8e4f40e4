import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from 'jose';
import { handMadeToken, startLocalIssuer, type LocalIssuer } from '@pushtech/testing';
import { createOidcVerifier, discoverJwksUrl, OidcUnavailableError, type OidcVerifier } from './oidc.ts';

const AUDIENCE = 'pushtech-website';
let idp: LocalIssuer;
let verifier: OidcVerifier;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  idp = await startLocalIssuer(AUDIENCE);
  verifier = createOidcVerifier({ issuer: idp.issuer, audience: AUDIENCE });
});
afterAll(() => idp.close());

describe('OIDC tokens from the issuer\'s JWKS (found through discovery)', () => {
  it('accepts RS256 and ES256 tokens of the issuer for the audience; the email only when verified', async () => {
    expect(await verifier.verify(await idp.sign({ sub: 'alice', email: 'a@example.org', email_verified: true }))).toEqual({ ok: true, subject: 'alice', email: 'a@example.org' });
    expect(await verifier.verify(await idp.sign({ sub: 'bob', email: 'b@example.org' }, { alg: 'ES256' }))).toEqual({ ok: true, subject: 'bob', email: null });
  });

  it('refuses a token for another audience, from another issuer, or expired', async () => {
    expect(await verifier.verify(await idp.sign({ sub: 'alice' }, { audience: 'someone-else' }))).toEqual({ ok: false, reason: 'the token\'s aud is not valid: check_failed' });
    expect(await verifier.verify(await idp.sign({ sub: 'alice' }, { issuer: 'https://evil.example' }))).toEqual({ ok: false, reason: 'the token\'s iss is not valid: check_failed' });
    expect(await verifier.verify(await idp.sign({ sub: 'alice' }, { expiresIn: now() - 120 }))).toEqual({ ok: false, reason: 'the token has expired' });
  });

  it('refuses alg none, and an HS256 token keyed with the issuer\'s public key (algorithm confusion)', async () => {
    const claims = { sub: 'mallory', iss: idp.issuer, aud: AUDIENCE, exp: now() + 300 };
    const none = await handMadeToken({ alg: 'none', typ: 'JWT' }, claims);
    expect(await verifier.verify(none)).toMatchObject({ ok: false });
    const publicKey = new TextEncoder().encode(JSON.stringify(idp.publicJwks.keys[0]));
    const confused = await handMadeToken({ alg: 'HS256', kid: 'rsa-1' }, claims, publicKey);
    expect(await verifier.verify(confused)).toEqual({ ok: false, reason: 'the token must be signed with RS256 or ES256' });
  });

  it('refuses a token signed by a key the JWKS does not have, and one without sub or exp', async () => {
    const stranger = await generateKeyPair('RS256');
    expect(await verifier.verify(await idp.sign({ sub: 'alice' }, { key: stranger.privateKey }))).toMatchObject({ ok: false });
    expect(await verifier.verify(await idp.sign({}))).toMatchObject({ ok: false, reason: expect.stringContaining('sub') });
    const noExp = await handMadeToken({ alg: 'HS256' }, { sub: 'x' });
    expect(await verifier.verify(noExp)).toMatchObject({ ok: false });
  });

  it('takes a configured JWKS URL without discovery', async () => {
    const direct = createOidcVerifier({ issuer: 'https://idp.example', audience: AUDIENCE, jwksUrl: idp.jwksUrl });
    expect(await direct.verify(await idp.sign({ sub: 'carol' }, { issuer: 'https://idp.example' }))).toMatchObject({ ok: true, subject: 'carol' });
  });

  it('an issuer it cannot reach is a dependency away (503), not a bad token', async () => {
    const away = createOidcVerifier({ issuer: 'http://127.0.0.1:9', audience: AUDIENCE, fetchTimeoutMs: 2_000 });
    await expect(away.verify(await idp.sign({ sub: 'alice' }))).rejects.toBeInstanceOf(OidcUnavailableError);
    const jwksAway = createOidcVerifier({ issuer: idp.issuer, audience: AUDIENCE, jwksUrl: 'http://127.0.0.1:9/jwks', fetchTimeoutMs: 2_000 });
    await expect(jwksAway.verify(await idp.sign({ sub: 'alice' }))).rejects.toBeInstanceOf(OidcUnavailableError);
  });

  it('discovery refuses a document naming another issuer', async () => {
    await expect(discoverJwksUrl(`${idp.issuer}/`)).rejects.toThrow(/names issuer/);
  });
});
