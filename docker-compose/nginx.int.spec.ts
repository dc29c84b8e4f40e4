// The compose file's nginx.conf in a real nginx (Debian's; scripts/install-test-tools.sh
// installs it), in front of a real tracker and imageserver: the upstream addresses and the
// listen port are the only lines changed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from '@pushtech/redis';
import { freePort } from '@pushtech/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transformer } from '@napi-rs/image';
import { signToken } from '@pushtech/auth';
import { loadConfig } from '@pushtech/config';
import { createLogger } from '@pushtech/logging';
import { imageserver } from '../services/imageserver/src/app.ts';
import { imageserverConfigSpec } from '../services/imageserver/src/config.ts';
import { connectTestRedis, startTestTracker, type TestTracker } from '../services/tracker/src/test-tracker.ts';
import { startNginx, type LocalNginx } from '../e2e/nginx.ts';

const JWT_SECRET = 'nginx-test-secret-of-at-least-32-chars';

describe('nginx.conf, run by nginx in front of a tracker and an imageserver', () => {
  let dir: string;
  let images: Awaited<ReturnType<typeof imageserver.start>>;
  let nginx: LocalNginx;
  let base: string;
  let redis: Redis;
  let t: TestTracker;

  beforeAll(async () => {
    redis = await connectTestRedis();
    t = await startTestTracker(redis, { TRUST_PROXY: '1' });
    const trackerPort = Number(new URL(await t.app.listen({ port: 0, host: '127.0.0.1' })).port);
    dir = mkdtempSync(join(tmpdir(), 'pushtech-images-'));
    const imagesPort = await freePort();
    const imagesConfig = loadConfig(imageserverConfigSpec, { JWT_SECRET, IMAGES_DIR: join(dir, 'images'), HOST: '127.0.0.1', PORT: String(imagesPort) });
    images = await imageserver.start({ config: imagesConfig, logger: createLogger('imageserver', 'silent') });
    await images.ready;
    // Storage, kafidx and the website are not needed here.
    nginx = await startNginx({ tracker: trackerPort, imageserver: imagesPort });
    base = nginx.base;
  });

  afterAll(async () => {
    await nginx?.stop();
    await t?.close();
    await images?.stop();
    redis?.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes a beacon to the tracker, which stores the address nginx saw, not one the client forged', async () => {
    const res = await fetch(`${base}/t/page.view?path=%2F`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(res.status).toBe(204);
    const [event] = await t.entries();
    expect(event!.id).toBe(res.headers.get('x-event-id'));
    expect(event!.data.context).toMatchObject({ ip: '127.0.0.1' });
  });

  const batchOfBytes = (bytes: number) => JSON.stringify(Array.from({ length: Math.ceil(bytes / 1_000) }, () => ({ type: 'a', data: { p: 'x'.repeat(980) } })));

  it("lets the tracker answer a batch over its 1 MiB with its own JSON 413", async () => {
    const res = await fetch(`${base}/t/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batchOfBytes(1_500_000) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 1048576 bytes' }] });
  });

  it('answers a body over its own limit with JSON too', async () => {
    const res = await fetch(`${base}/t/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batchOfBytes(3_000_000) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 2097152 bytes' }] });
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
      const res = await fetch(`${base}/images`, {
        method: 'POST', body: png,
        headers: { 'content-type': 'image/png', authorization: `Bearer ${await signToken('alice', JWT_SECRET)}` },
      });
      expect(res.status, await res.clone().text()).toBe(201);
      const image = (await res.json()) as { variants: { thumb: { url: string; bytes: number } } };
      const thumb = await fetch(`${base}${image.variants.thumb.url}`);
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get('content-type')).toBe('image/webp');
      expect((await thumb.arrayBuffer()).byteLength).toBe(image.variants.thumb.bytes);
    });

    it("lets the imageserver answer an upload over its MAX_UPLOAD_BYTES with its own JSON 413, and answers JSON beyond nginx's own limit", async () => {
      const headers = { 'content-type': 'image/png', authorization: `Bearer ${await signToken('alice', JWT_SECRET)}` };
      const overImageserver = await fetch(`${base}/images`, { method: 'POST', body: Buffer.alloc(10.5 * 2 ** 20), headers });
      expect(overImageserver.status).toBe(413);
      expect(await overImageserver.json()).toEqual({ error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 10485760 bytes' }] });
      const overNginx = await fetch(`${base}/images`, { method: 'POST', body: Buffer.alloc(12 * 2 ** 20), headers });
      expect(overNginx.status).toBe(413);
      expect(overNginx.headers.get('content-type')).toBe('application/json');
      expect(await overNginx.json()).toEqual({ error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 11534336 bytes' }] });
    });
  });
});
