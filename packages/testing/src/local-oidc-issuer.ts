/**
 * A local OpenID issuer for tests: an HTTP server publishing a discovery document and a JWKS
 * with one RS256 and one ES256 key (generated per run), and a signer for its tokens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

export interface LocalIssuer {
  issuer: string;
  jwksUrl: string;
  publicJwks: { keys: Record<string, unknown>[] };
  sign(claims: JWTPayload, options?: { alg?: 'RS256' | 'ES256'; issuer?: string; audience?: string; expiresIn?: string | number; key?: CryptoKey; kid?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startLocalIssuer(audience: string): Promise<LocalIssuer> {
  const rsa = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  let issuer = '';
  const server: Server = createServer((request, response) => {
    const body = request.url === '/.well-known/openid-configuration' ? { issuer, jwks_uri: `${issuer}/jwks` } : request.url === '/jwks' ? { keys } : undefined;
    response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? { error: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    publicJwks: { keys },
    async sign(claims, options = {}) {
      const alg = options.alg ?? 'RS256';
      const key = options.key ?? (alg === 'RS256' ? rsa.privateKey : ec.privateKey);
      return new SignJWT(claims)
        .setProtectedHeader({ alg, kid: options.kid ?? (alg === 'RS256' ? 'rsa-1' : 'ec-1') })
        .setIssuer(options.issuer ?? issuer)
        .setAudience(options.audience ?? audience)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m')
        .sign(key);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A JWT with any header, "signed" with HMAC-SHA256 over `secret` (or unsigned for `alg: none`). */
export async function handMadeToken(header: Record<string, unknown>, payload: Record<string, unknown>, secret?: Uint8Array): Promise<string> {
  const { createHmac } = await import('node:crypto');
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part(header)}.${part(payload)}`;
  const signature = secret === undefined ? '' : createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${signature}`;
}
