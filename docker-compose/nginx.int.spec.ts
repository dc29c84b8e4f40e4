// The compose file's nginx.conf in a real nginx (Debian's; scripts/install-test-tools.sh
// installs it) with a self-signed certificate, in front of a real tracker, storage and imageserver:
// TLS, HTTP/2, the redirect, maintenance mode, rate limits and the body limits.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { Redis } from '@pushtech/redis';
import { freePort, waitFor } from '@pushtech/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transformer } from '@napi-rs/image';
import { signToken } from '@pushtech/auth';
import { loadConfig } from '@pushtech/config';
import { createLogger } from '@pushtech/logging';
import { imageserver } from '../services/imageserver/src/app.ts';
import { imageserverConfigSpec } from '../services/imageserver/src/config.ts';
import { storageService } from '../services/storage/src/storage.ts';
import { testSettings } from '../services/storage/src/test-storage.ts';
import { connectTestRedis, startTestTracker, type TestTracker } from '../services/tracker/src/test-tracker.ts';
import { h2Client, startLocalNginx, type H2Client, type LocalNginx } from './local-nginx.ts';

const JWT_SECRET = 'nginx-test-secret-of-at-least-32-chars';

describe('nginx.conf, run by nginx in front of a tracker, storage and an imageserver', () => {
  let images: Awaited<ReturnType<typeof imageserver.start>>;
  let storage: Awaited<ReturnType<ReturnType<typeof storageService>['start']>>;
  const storageSettings = testSettings({ JWT_SECRET });
  const imagesDir = join(tmpdir(), `pushtech-nginx-images-${randomBytes(4).toString('hex')}`);
  let nginx: LocalNginx;
  let client: H2Client;
  let redis: Redis;
  let t: TestTracker;
  const request: H2Client['request'] = (path, options) => client.request(path, options);
  const json = (answer: { body: string }) => JSON.parse(answer.body) as unknown;

  beforeAll(async () => {
    redis = await connectTestRedis();
    t = await startTestTracker(redis, { TRUST_PROXY: '1' });
    const trackerPort = Number(new URL(await t.app.listen({ port: 0, host: '127.0.0.1' })).port);
    storage = await storageService({ awaitProjectorJoin: true }).start({ config: storageSettings, logger: createLogger('storage', 'silent') });
    const imagesPort = await freePort();
    const imagesConfig = loadConfig(imageserverConfigSpec, { JWT_SECRET, IMAGES_DIR: imagesDir, HOST: '127.0.0.1', PORT: String(imagesPort) });
    images = await imageserver.start({ config: imagesConfig, logger: createLogger('imageserver', 'silent') });
    await Promise.all([images.ready, storage.ready]);
    // kafidx and the website are not needed here: left out, nginx finds nobody there.
    nginx = await startLocalNginx({ tracker: trackerPort, storage: Number(new URL(storage.url!).port), imageserver: imagesPort });
    client = h2Client(nginx.https, nginx.ca);
  });

  afterAll(async () => {
    client?.close();
    await nginx?.stop();
    await t?.close();
    await images?.stop();
    await storage?.stop();
    redis?.disconnect();
    rmSync(imagesDir, { recursive: true, force: true });
  });

  describe('TLS', () => {
    it('speaks HTTP/2 over TLS 1.3 with the configured certificate, and sends HSTS', async () => {
      const res = await request('/healthz');
      expect(client.session.alpnProtocol).toBe('h2');
      expect((client.session.socket as unknown as { getProtocol(): string }).getProtocol()).toBe('TLSv1.3');
      expect(res.status).toBe(200);
      expect(res.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    });

    /** The TLS version and cipher nginx agrees to with a client offering only these, or the handshake's error. */
    async function handshake(options: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string }) {
      const socket = tlsConnect({ host: '127.0.0.1', port: Number(new URL(nginx.https).port), ca: nginx.ca, servername: 'localhost', ...options });
      // `once` rejects with the socket's error event.
      const result = await once(socket, 'secureConnect').then(
        () => ({ version: socket.getProtocol(), cipher: socket.getCipher().standardName }),
        (err: Error) => ({ error: err.message }),
      );
      socket.destroy();
      return result;
    }

    it('takes TLS 1.2 with a forward-secret AEAD cipher, and refuses the CBC ones nginx would take by default', async () => {
      expect(await handshake({ maxVersion: 'TLSv1.2' })).toMatchObject({ version: 'TLSv1.2', cipher: expect.stringMatching(/^TLS_ECDHE_ECDSA_WITH_(AES_\d+_GCM|CHACHA20_POLY1305)/) });
      expect(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA' })).toMatchObject({ error: expect.stringMatching(/handshake failure|no ciphers|alert/i) });
    });

    it('redirects plain HTTP to HTTPS, and answers /healthz on it for probes', async () => {
      const res = await fetch(`${nginx.http}/listings?near=1`, { redirect: 'manual' });
      expect(res.status).toBe(301);
      expect(res.headers.get('location')).toBe('https://127.0.0.1/listings?near=1');
      expect((await fetch(`${nginx.http}/healthz`)).status).toBe(200);
    });
  });

  it('passes a beacon to the tracker, which stores the address nginx saw, not one the client forged', async () => {
    const res = await request('/t/page.view?path=%2F', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(res.status).toBe(204);
    const [event] = await t.entries();
    expect(event!.id).toBe(res.headers['x-event-id']);
    expect(event!.data.context).toMatchObject({ ip: '127.0.0.1' });
    // One log stream: nginx's access line has the services' fields and the request id it gave the tracker.
    const requestId = res.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    await waitFor(() => nginx.accessLog().find((l) => l.requestId === requestId), 'the access log line');
    expect(nginx.accessLog().find((l) => l.requestId === requestId)).toMatchObject({ level: 'info', service: 'nginx', msg: 'request', status: 204, uri: '/t/page.view?path=%2F' });
  });

  describe('maintenance mode', () => {
    const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

    it('on: API clients get a JSON 503 and browsers a page, both with Retry-After; /healthz still answers', async () => {
      nginx.maintenance(true);
      try {
        const api = await request('/listings?lng=13.4&lat=52.5&radiusM=1000', { headers: { accept: 'application/json' } });
        expect(api.status).toBe(503);
        expect(api.headers['content-type']).toBe('application/json');
        expect(api.headers['retry-after']).toBe('300');
        expect(api.headers['strict-transport-security']).toBeDefined();
        expect(json(api)).toEqual({ error: 'maintenance', message: 'down for maintenance: retry after 300 seconds' });
        const page = await request('/listings/abc', { headers: html });
        expect(page.status).toBe(503);
        expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(page.headers['retry-after']).toBe('300');
        expect(page.body).toContain('<h1>Down for maintenance</h1>');
        for (const path of ['/me/devices', '/images/x', '/docs', '/account/signin']) {
          expect((await request(path)).status, path).toBe(503);
        }
        expect((await request('/healthz')).status).toBe(200);
      } finally {
        nginx.maintenance(false);
      }
    });

    it('on: the tracker keeps accepting events', async () => {
      nginx.maintenance(true);
      try {
        const res = await request('/t/location', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lng: 13.4, lat: 52.5 }) });
        expect(res.status).toBe(204);
        expect((await t.entries()).map((e) => e.id)).toContain(res.headers['x-event-id']);
      } finally {
        nginx.maintenance(false);
      }
    });

    it('off: the services answer again', async () => {
      nginx.maintenance(true);
      expect((await request('/listings/00000000-0000-7000-8000-000000000000')).status).toBe(503);
      nginx.maintenance(false);
      const res = await request('/listings/00000000-0000-7000-8000-000000000000', { headers: { accept: 'application/json' } });
      expect(res.status).toBe(404);
      expect(json(res)).toMatchObject({ error: 'not_found' });
    });
  });

  describe('rate limits per client address', () => {
    const from = (localAddress: string) => h2Client(nginx.https, nginx.ca, { localAddress });

    it("limits the storage API's writes, answering JSON 429 with Retry-After, and neither its reads nor other addresses", async () => {
      const writer = from('127.0.0.2');
      const other = from('127.0.0.3');
      try {
        const token = await signToken('alice', JWT_SECRET);
        // Empty bodies: storage answers 400, nginx counts them as writes all the same.
        const write = (c: typeof writer) => c.request('/listings', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}' });
        const answers = await Promise.all(Array.from({ length: 25 }, () => write(writer)));
        const statuses = answers.map((a) => a.status);
        // 5 a second with a burst of 10: about 11 pass at once.
        expect(statuses.filter((s) => s === 400).length).toBeGreaterThanOrEqual(11);
        expect(statuses.filter((s) => s === 400).length).toBeLessThan(15);
        const limited = answers.find((a) => a.status === 429)!;
        expect(limited.headers['content-type']).toBe('application/json');
        expect(limited.headers['retry-after']).toBe('1');
        expect(json(limited)).toEqual({ error: 'too_many_requests', errors: [{ field: 'client', rule: 'at most 5 writes a second from one address; retry after 1 s' }] });
        const reads = await Promise.all(Array.from({ length: 25 }, () => writer.request('/listings/00000000-0000-7000-8000-000000000000')));
        expect(reads.map((r) => r.status)).toEqual(reads.map(() => 404));
        expect((await write(other)).status).toBe(400);
      } finally {
        writer.close();
        other.close();
      }
    });

    it('limits sign-in attempts', async () => {
      const signer = from('127.0.0.4');
      try {
        const answers = await Promise.all(Array.from({ length: 10 }, () => signer.request('/account/signin', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%40b.c&password=x' })));
        // 6 a minute with a burst of 5: six reach the website (not running here: nginx answers 502).
        expect(answers.map((a) => a.status).sort()).toEqual([429, 429, 429, 429, 502, 502, 502, 502, 502, 502]);
        const limited = answers.find((a) => a.status === 429)!;
        expect(limited.headers['retry-after']).toBe('10');
        expect(json(limited)).toEqual({ error: 'too_many_requests', errors: [{ field: 'client', rule: 'at most 6 sign-in attempts a minute from one address; retry after 10 s' }] });
      } finally {
        signer.close();
      }
    });
  });

  const batchOfBytes = (bytes: number) => JSON.stringify(Array.from({ length: Math.ceil(bytes / 1_000) }, () => ({ type: 'a', data: { p: 'x'.repeat(980) } })));

  it("lets the tracker answer a batch over its 1 MiB with its own JSON 413", async () => {
    const res = await request('/t/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: batchOfBytes(1_500_000) });
    expect(res.status).toBe(413);
    expect(json(res)).toEqual({ error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 1048576 bytes' }] });
  });

  it('answers a body over its own limit with JSON too', async () => {
    const res = await request('/t/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: batchOfBytes(3_000_000) });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toBe('application/json');
    expect(json(res)).toEqual({ error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 2097152 bytes' }] });
  });

  describe('/images', () => {
    /** A PNG of noise (it does not compress): about `megabytes` MB. */
    const noisePng = (megabytes: number) => {
      const side = Math.round(Math.sqrt((megabytes * 1e6) / 4));
      return Transformer.fromRgbaPixels(randomBytes(side * side * 4), side, side).png();
    };
    it("takes an upload over the API's 2m and serves its variants", async () => {
      const png = await noisePng(5);
      expect(png.length).toBeGreaterThan(2 * 2 ** 20);
      const res = await request('/images', {
        method: 'POST', body: png,
        headers: { 'content-type': 'image/png', authorization: `Bearer ${await signToken('alice', JWT_SECRET)}` },
      });
      expect(res.status, res.body).toBe(201);
      const image = json(res) as { variants: { thumb: { url: string; bytes: number } } };
      const thumb = await request(image.variants.thumb.url);
      expect(thumb.status).toBe(200);
      expect(thumb.headers['content-type']).toBe('image/webp');
      expect(thumb.bytes.length).toBe(image.variants.thumb.bytes);
    });

    it("lets the imageserver answer an upload over its MAX_UPLOAD_BYTES with its own JSON 413, and answers JSON beyond nginx's own limit", async () => {
      const headers = { 'content-type': 'image/png', authorization: `Bearer ${await signToken('alice', JWT_SECRET)}` };
      const overImageserver = await request('/images', { method: 'POST', body: Buffer.alloc(10.5 * 2 ** 20), headers });
      expect(overImageserver.status).toBe(413);
      expect(json(overImageserver)).toEqual({ error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 10485760 bytes' }] });
      const overNginx = await request('/images', { method: 'POST', body: Buffer.alloc(12 * 2 ** 20), headers });
      expect(overNginx.status).toBe(413);
      expect(overNginx.headers['content-type']).toBe('application/json');
      expect(json(overNginx)).toEqual({ error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 11534336 bytes' }] });
    });
  });
});
