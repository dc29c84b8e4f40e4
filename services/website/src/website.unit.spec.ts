import { loadConfig } from '@pushtech/config';
import { createLogger } from '@pushtech/logging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWebsiteConfig, websiteConfigSpec } from './config.ts';
import { contentSecurityPolicy, escapeHtml } from './pages.ts';
import { website } from './website.ts';

const env = { JWT_SECRET: 'website-unit-secret-0123456789abcdefghij', MONGO_URL: 'mongodb://127.0.0.1:1', MAP_ATTRIBUTION: '<b>"tiles" & co</b>' };

describe('the website service without Mongo: pages and assets', () => {
  let running: Awaited<ReturnType<typeof website.start>>;

  beforeAll(async () => {
    running = await website.start({ config: loadConfig(websiteConfigSpec, env), logger: createLogger('website', 'silent'), listen: false });
  }, 60_000);
  afterAll(() => running?.stop());

  it('serves every page with the CSP, referencing only scripts by URL, settings escaped', async () => {
    for (const url of ['/', '/my', '/signin', '/signup', '/l/0197b2c4-5f1d-7000-8000-1a2b3c4d5e6f']) {
      const answer = await running.http.inject({ url });
      expect(answer.statusCode, url).toBe(200);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers['content-security-policy']).toContain("script-src 'self';");
      expect(answer.body).toMatch(/<script type="module" src="\/assets\/[a-z]+-[A-Z0-9]+\.js"><\/script>/);
      expect(answer.body).toContain('<meta name="pushtech:attribution" content="&#60;b&#62;&#34;tiles&#34; &#38; co&#60;/b&#62;">');
    }
  });

  it('serves the bundles brotli, gzip or plain as asked, cached by hash, with an ETag', async () => {
    const page = await running.http.inject({ url: '/' });
    const script = /src="(\/assets\/home-[A-Z0-9]+\.js)"/.exec(page.body)![1]!;
    const plain = await running.http.inject({ url: script });
    const br = await running.http.inject({ url: script, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    const gzip = await running.http.inject({ url: script, headers: { 'accept-encoding': 'gzip' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(br.headers['content-encoding']).toBe('br');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.vary).toBe('accept-encoding');
    const again = await running.http.inject({ url: script, headers: { 'if-none-match': String(plain.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('serves the service worker under its fixed name, revalidated; an unknown asset is a JSON 404', async () => {
    const worker = await running.http.inject({ url: '/sw.js' });
    expect(worker.statusCode).toBe(200);
    expect(worker.headers['cache-control']).toBe('no-cache');
    expect(worker.body).toContain('notificationclick');
    const missing = await running.http.inject({ url: '/assets/nothing.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', errors: [{ field: 'path', rule: 'no asset /assets/nothing.js' }] });
  });

  it('answers a sign-up 503 unavailable while Mongo is away', async () => {
    const csrf = await running.http.inject({ url: '/account/csrf' });
    expect(csrf.statusCode).toBe(200);
    const cookie = [csrf.headers['set-cookie']].flat().map((c) => String(c).split(';')[0]).join('; ');
    const signUp = await running.http.inject({
      method: 'POST', url: '/account/signup', headers: { cookie, 'x-csrf-token': csrf.json().csrfToken },
      payload: { email: 'a@example.org', password: 'correct horse battery staple' },
    });
    expect(signUp.statusCode).toBe(503);
    expect(signUp.json().error).toBe('unavailable');
  });
});

describe('behind nginx (TRUST_PROXY=1)', () => {
  it('limits sign-in per client address by the entry nginx added, whatever a client writes before it', async () => {
    const behindNginx = await website.start({
      config: loadConfig(websiteConfigSpec, { ...env, TRUST_PROXY: '1', LOGIN_LIMIT_PER_IP: '2' }), logger: createLogger('website', 'silent'), listen: false,
    });
    try {
      const csrf = await behindNginx.http.inject({ url: '/account/csrf' });
      const cookie = [csrf.headers['set-cookie']].flat().map((c) => String(c).split(';')[0]).join('; ');
      const statuses: number[] = [];
      for (let i = 1; i <= 3; i++) {
        const signIn = await behindNginx.http.inject({
          method: 'POST', url: '/account/signin',
          headers: { cookie, 'x-csrf-token': csrf.json().csrfToken, 'x-forwarded-for': `10.0.0.${i}, 203.0.113.7` },
          payload: { email: `user${i}@example.org`, password: 'correct horse battery staple' },
        });
        statuses.push(signIn.statusCode);
      }
      expect(statuses[2]).toBe(429);
    } finally {
      await behindNginx.stop();
    }
  });
});

describe('config', () => {
  const load = (extra: Record<string, string>) => loadConfig(websiteConfigSpec, { ...env, ...extra });

  it('takes a tile URL template with {z}, {x} and {y}, and lets the CSP load images from its origin', () => {
    const config = load({ MAP_TILES_URL: 'https://tiles.example.org/{z}/{x}/{y}.png' });
    expect(checkWebsiteConfig(config)).toEqual([]);
    expect(contentSecurityPolicy(config)).toContain("img-src 'self' data: blob: https://tiles.example.org;");
    expect(contentSecurityPolicy(load({}))).toContain("img-src 'self' data: blob:;");
  });

  it('refuses a tile URL without the placeholders, naming the variable', () => {
    const errors = checkWebsiteConfig(load({ MAP_TILES_URL: 'https://tiles.example.org/tile.png' }));
    expect(errors.map((e) => e.message)).toEqual(['MAP_TILES_URL must be an http(s) URL template with {z}, {x} and {y} (got "https://tiles.example.org/tile.png")']);
  });

  it('escapes what goes into HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
});
