import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Transformer } from '@napi-rs/image';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@pushtech/auth';
import { loadConfig } from '@pushtech/config';
import { handMadeToken, startLocalIssuer, waitFor } from '@pushtech/testing';
import { createLogger } from '@pushtech/logging';
import type { FastifyInstance } from 'fastify';
import { imageserver } from './app.ts';
import { imageserverConfigSpec } from './config.ts';
import { encoded, heic, withExif } from './fixtures/test-images.ts';
import type { ImageStore } from './image-store.ts';

const SECRET = 'imageserver-test-secret-at-least-32-chars';
const logger = createLogger('imageserver-test', 'silent');
const dirs: string[] = [];

interface TestImageserver {
  http: FastifyInstance;
  store: ImageStore;
  stop(): Promise<void>;
}

const configOf = (env: Record<string, string>) => loadConfig(imageserverConfigSpec, { JWT_SECRET: SECRET, ...env });

/** An imageserver on its own volume (not listening: `http.inject`), once it is ready. */
async function startApp(env: Record<string, string> = {}, imagesDir?: string): Promise<TestImageserver> {
  const dir = imagesDir ?? (await mkdtemp(join(tmpdir(), 'imageserver-')));
  dirs.push(dir);
  const service = await imageserver.start({ config: configOf({ IMAGES_DIR: dir, ...env }), logger, listen: false });
  const { store } = await service.ready;
  return { http: service.http, store, stop: () => service.stop() };
}
const bearer = async (userId: string) => ({ authorization: `Bearer ${await signToken(userId, SECRET)}` });

let alice: { authorization: string };
let bob: { authorization: string };
beforeAll(async () => {
  alice = await bearer('alice');
  bob = await bearer('bob');
});
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The app of the enclosing describe's tests (and `upload`'s), started with `env`. */
let app: TestImageserver;
function withApp(env: Record<string, string> = {}): void {
  beforeAll(async () => {
    app = await startApp(env);
  });
  afterAll(() => app.stop());
}

const upload = (body: Buffer | string, headers: Record<string, string>, target = app) =>
  target.http.inject({ method: 'POST', url: '/images', payload: body, headers: { 'content-type': 'image/jpeg', ...headers } });
const UPLOAD_TYPES_RULE = 'must be one of image/jpeg, image/png, image/webp, image/avif, image/heic, image/heif, application/octet-stream';

// What differs between the two codecs (IMAGE_CODEC); everything else is the same test for both.
describe.each([
  { codecName: 'sharp', accepted: 'a JPEG, PNG, WebP or AVIF image', refusesTruncated: true },
  { codecName: 'napi', accepted: 'a JPEG, PNG or WebP image', refusesTruncated: false },
] as const)('POST /images with IMAGE_CODEC=$codecName', ({ codecName, accepted, refusesTruncated }) => {
  withApp({ IMAGE_CODEC: codecName });

  it('stores a phone photo: 201 with its id, upright size and variant URLs; every variant is served as WebP and AVIF without its EXIF', async () => {
    const photo = withExif(await encoded('jpeg', 3000, 1500), 6, 'GPS 52.5200 N 13.4050 E');
    const response = await upload(photo, alice);
    expect(response.statusCode).toBe(201);
    const image = response.json();
    expect(response.headers.location).toBe(`/images/${image.id}`);
    const formats = (name: string) => ({
      webp: { type: 'image/webp', bytes: image.variants[name].bytes, url: `/images/${image.id}/${name}.webp` },
      avif: { type: 'image/avif', bytes: expect.any(Number), url: `/images/${image.id}/${name}.avif` },
    });
    expect(image).toMatchObject({
      ownerId: 'alice', width: 1500, height: 3000,
      variants: {
        large: { width: 1024, height: 2048, type: 'image/webp', url: `/images/${image.id}/large`, formats: formats('large') },
        medium: { width: 512, height: 1024, url: `/images/${image.id}/medium`, formats: formats('medium') },
        thumb: { width: 128, height: 256, url: `/images/${image.id}/thumb`, formats: formats('thumb') },
      },
    });
    expect((await app.http.inject(`/images/${image.id}`)).json()).toEqual(image);

    for (const name of ['large', 'medium', 'thumb'] as const) {
      const { width, height, url, formats } = image.variants[name];
      const files = [[url, 'webp', formats.webp.bytes], [formats.webp.url, 'webp', formats.webp.bytes], [formats.avif.url, 'avif', formats.avif.bytes]];
      for (const [fileUrl, format, bytes] of files) {
        const served = await app.http.inject(fileUrl);
        expect(served.statusCode, fileUrl).toBe(200);
        expect(served.headers['content-type']).toBe(`image/${format}`);
        expect(served.headers['cache-control']).toBe('public, max-age=86400');
        expect(Number(served.headers['content-length'])).toBe(bytes);
        expect(served.rawPayload.includes('GPS 52.5200')).toBe(false);
        const metadata = await sharp(served.rawPayload).metadata();
        expect([metadata.format, metadata.width, metadata.height, metadata.exif]).toEqual([format === 'avif' ? 'heif' : 'webp', width, height, undefined]);
      }
    }
  });

  it.each([['image/png', 'png'], ['image/webp', 'webp'], ['application/octet-stream', 'jpeg']] as const)('takes %s (a %s file)', async (type, format) => {
    const response = await upload(await encoded(format, 64, 48), { ...alice, 'content-type': type });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ width: 64, height: 48, variants: { thumb: { width: 64, height: 48 } } });
  });

  it('takes an AVIF if it decodes AVIF, and answers 415 naming what it takes for what it cannot decode (a HEIC: HEVC)', async () => {
    const avif = await upload(await encoded('avif', 64, 48), { ...alice, 'content-type': 'image/avif' });
    if (accepted.includes('AVIF')) expect([avif.statusCode, avif.json().width]).toEqual([201, 64]);
    else expect([avif.statusCode, avif.json()]).toEqual([415, { error: 'unsupported_media_type', errors: [{ field: 'body', rule: `must be ${accepted}: AVIF cannot be decoded here` }] }]);
    const phone = await upload(heic(), { ...alice, 'content-type': 'image/heic' });
    expect([phone.statusCode, phone.json()]).toEqual([415, { error: 'unsupported_media_type', errors: [{ field: 'body', rule: `must be ${accepted}: HEIC (HEVC-coded) cannot be decoded here` }] }]);
  });

  it.runIf(refusesTruncated)('refuses a truncated JPEG (400) rather than store it with grey rows', async () => {
    const jpeg = await encoded('jpeg', 400, 300);
    const truncated = await upload(jpeg.subarray(0, jpeg.length / 2), alice);
    expect(truncated.statusCode).toBe(400);
    expect(truncated.json()).toEqual({ error: 'invalid_image', errors: [{ field: 'body', rule: expect.stringMatching(/^could not be decoded as jpeg: .*premature end of JPEG/) }] });
    // libvips lists every step that failed, one a line; the rule is one line.
    const avif = await encoded('avif', 400, 300);
    const cut = await upload(avif.subarray(0, avif.length - 100), { ...alice, 'content-type': 'image/avif' });
    expect(cut.json().errors[0].rule).toMatch(/^could not be decoded as avif: [^\n]+$/);
  });

  it('answers 304 to a browser that has the variant already', async () => {
    const { variants } = (await upload(await encoded('png', 30, 30), { ...alice, 'content-type': 'image/png' })).json();
    const first = await app.http.inject(variants.thumb.url);
    const again = await app.http.inject({ url: variants.thumb.url, headers: { 'if-none-match': first.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
  });

  it('needs a bearer token, checked before the body is read', async () => {
    const unauthorized = { error: 'unauthorized', errors: [{ field: 'authorization', rule: 'is required: Bearer <token>' }] };
    const response = await upload(await encoded('jpeg', 10, 10), {});
    expect([response.statusCode, response.json()]).toEqual([401, unauthorized]);
    // Over MAX_UPLOAD_BYTES: the body would have been refused (413) had it been read first.
    const big = await upload(Buffer.alloc(11 * 2 ** 20), {});
    expect([big.statusCode, big.json()]).toEqual([401, unauthorized]);
  });

  it(`refuses what is not ${accepted}, naming the field and the rule; nothing is stored`, async () => {
    const before = await readdir(app.store.root);
    const cases: [Buffer | string, Record<string, string>, number, object][] = [
      ['GIF89a\x01\x00\x01\x00', {}, 400, { error: 'invalid_image', errors: [{ field: 'body', rule: `must be ${accepted}` }] }],
      ['<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', {}, 400, { error: 'invalid_image', errors: [{ field: 'body', rule: `must be ${accepted}` }] }],
      ['', {}, 400, { error: 'invalid_image', errors: [{ field: 'body', rule: `must be ${accepted}` }] }],
      ['{"image":1}', { 'content-type': 'application/json' }, 415, { error: 'unsupported_media_type', errors: [{ field: 'content-type', rule: UPLOAD_TYPES_RULE }] }],
      ['abc', { 'content-type': 'text/plain' }, 415, { error: 'unsupported_media_type', errors: [{ field: 'content-type', rule: UPLOAD_TYPES_RULE }] }],
    ];
    for (const [body, headers, status, answer] of cases) {
      const response = await upload(body, { ...alice, ...headers });
      expect([response.statusCode, response.json()], JSON.stringify(headers)).toEqual([status, answer]);
    }
    const png = await encoded('png', 50, 50);
    const broken = await upload(Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 7)]), { ...alice, 'content-type': 'image/png' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().errors[0]).toMatchObject({ field: 'body', rule: expect.stringMatching(/^could not be decoded as png: /) });
    expect(await readdir(app.store.root)).toEqual(before);
    expect(await readdir(join(app.store.root, '.incoming'))).toEqual([]);
  });

  it('refuses a body over MAX_UPLOAD_BYTES (413) and an image over MAX_PIXELS (400) before decoding it', async () => {
    const small = await startApp({ IMAGE_CODEC: codecName, MAX_UPLOAD_BYTES: '2048', MAX_PIXELS: '10000' });
    try {
      const big = await upload(Buffer.alloc(4096, 1), alice, small);
      expect([big.statusCode, big.json()]).toEqual([413, { error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 2048 bytes' }] }]);
      // 101 × 100 pixels: one row over the limit; a PNG of one colour is far under 2048 bytes.
      const wide = await Transformer.fromRgbaPixels(new Uint8Array(101 * 100 * 4).fill(255), 101, 100).png();
      const tooMany = await upload(wide, { ...alice, 'content-type': 'image/png' }, small);
      expect([tooMany.statusCode, tooMany.json()]).toEqual([400, { error: 'invalid_image', errors: [{ field: 'body', rule: 'must be at most 10000 pixels (this one is 101×100)' }] }]);
      const notAnUpload = await upload('{}', { ...alice, 'content-type': 'application/json' }, small);
      expect(notAnUpload.statusCode).toBe(415);
      // Each refusal counted once, whether Fastify refused it (413, 415) or the handler (pixels).
      const metrics = (await small.http.inject('/metrics')).body;
      expect(metrics).toMatch(/imageserver_uploads_total\{outcome="too_large",service="imageserver"\} 2\n/);
      expect(metrics).toMatch(/imageserver_uploads_total\{outcome="invalid",service="imageserver"\} 1\n/);
    } finally {
      await small.stop();
    }
  });

  it('with every slot busy and no room to wait, answers 503 with Retry-After; the upload in hand is stored', async () => {
    const one = await startApp({ IMAGE_CODEC: codecName, PROCESSING_CONCURRENCY: '1', MAX_WAITING_UPLOADS: '0' });
    try {
      const photo = await encoded('jpeg', 1600, 1200);
      const [first, second] = await Promise.all([upload(photo, alice, one), upload(photo, alice, one)]);
      const statuses = [first.statusCode, second.statusCode].sort();
      expect(statuses).toEqual([201, 503]);
      const refused = first.statusCode === 503 ? first : second;
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json()).toMatchObject({ error: 'busy' });
      expect((await one.http.inject('/metrics')).body).toMatch(/imageserver_uploads_total\{outcome="busy",service="imageserver"\} 1\n/);
      expect((await upload(photo, alice, one)).statusCode).toBe(201);
    } finally {
      await one.stop();
    }
  });
});

describe('GET and DELETE /images/:id', () => {
  withApp();

  it('an unknown image, variant or malformed id is a 404 or 400 naming the field', async () => {
    const { id } = (await upload(await encoded('jpeg', 20, 20), alice)).json();
    const unknown = '01900000-0000-7000-8000-000000000000';
    const cases: [string, number, object][] = [
      [`/images/${unknown}`, 404, { error: 'not_found', errors: [{ field: 'id', rule: 'no image has this id' }] }],
      [`/images/${unknown}/thumb`, 404, { error: 'not_found', errors: [{ field: 'id', rule: 'no image has this id' }] }],
      [`/images/${unknown}/thumb.avif`, 404, { error: 'not_found', errors: [{ field: 'id', rule: 'no image has this id' }] }],
      [`/images/${id}/original`, 404, { error: 'not_found', errors: [{ field: 'variant', rule: 'must be one of large, medium, thumb' }] }],
      [`/images/${id}/original.avif`, 404, { error: 'not_found', errors: [{ field: 'variant', rule: 'must be one of large, medium, thumb' }] }],
      [`/images/${id}/thumb.gif`, 404, { error: 'not_found', errors: [{ field: 'format', rule: 'must be one of webp, avif' }] }],
      [`/images/${id}/thumb.`, 404, { error: 'not_found', errors: [{ field: 'format', rule: 'must be one of webp, avif' }] }],
      ['/images/..%2F..%2Fetc', 400, { error: 'invalid_request', errors: [{ field: 'id', rule: 'must be an image id (a lower-case UUIDv7, as POST /images answers)' }] }],
      ['/pictures', 404, { error: 'not_found', errors: [{ field: 'path', rule: expect.stringMatching(/^no route GET \/pictures; the routes are .*POST \/images, /) }] }],
    ];
    for (const [url, status, answer] of cases) {
      const response = await app.http.inject(url);
      expect([response.statusCode, response.json()], url).toEqual([status, answer]);
    }
  });

  it('only the owner deletes; then the image and its variants are gone', async () => {
    const image = (await upload(await encoded('jpeg', 20, 20), alice)).json();
    const byBob = await app.http.inject({ method: 'DELETE', url: `/images/${image.id}`, headers: bob });
    expect([byBob.statusCode, byBob.json()]).toEqual([403, { error: 'forbidden', errors: [{ field: 'authorization', rule: "must be a token of the image's owner" }] }]);
    expect((await app.http.inject({ method: 'DELETE', url: `/images/${image.id}` })).statusCode).toBe(401);
    expect((await app.http.inject({ method: 'DELETE', url: `/images/${image.id}`, headers: alice })).statusCode).toBe(204);
    expect((await app.http.inject(`/images/${image.id}`)).statusCode).toBe(404);
    expect((await app.http.inject(image.variants.large.url)).statusCode).toBe(404);
    expect((await app.http.inject(image.variants.large.formats.avif.url)).statusCode).toBe(404);
    expect((await app.http.inject({ method: 'DELETE', url: `/images/${image.id}`, headers: alice })).statusCode).toBe(404);
  });
});

describe('tokens of the operator\'s OIDC issuer (OIDC_ISSUER, OIDC_AUDIENCE)', () => {
  it('an upload with its RS256 token is owned by oidc:<sub>, whose HS256 token (the website\'s) may delete it', async () => {
    const idp = await startLocalIssuer('pushtech-app');
    const server = await startApp({ OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: 'pushtech-app' });
    try {
      const stored = await upload(await encoded('jpeg', 20, 20), { authorization: `Bearer ${await idp.sign({ sub: 'erin' })}` }, server);
      expect([stored.statusCode, stored.json().ownerId]).toEqual([201, 'oidc:erin']);
      const remove = async (userId: string) => (await server.http.inject({ method: 'DELETE', url: `/images/${stored.json().id}`, headers: await bearer(userId) })).statusCode;
      expect(await remove('erin')).toBe(403);
      expect(await remove('oidc:erin')).toBe(204);
    } finally {
      await server.stop();
      await idp.close();
    }
  });

  it('an issuer it cannot reach is a 503 with Retry-After, not a 401', async () => {
    const server = await startApp({ OIDC_ISSUER: 'http://127.0.0.1:9', OIDC_AUDIENCE: 'pushtech-app' });
    try {
      const token = await handMadeToken({ alg: 'ES256' }, { sub: 'erin', aud: 'pushtech-app' }, new Uint8Array(32));
      const response = await upload(await encoded('jpeg', 10, 10), { authorization: `Bearer ${token}` }, server);
      expect([response.statusCode, response.headers['retry-after'], response.json()]).toEqual([503, '1', { error: 'unavailable', message: 'the OIDC issuer is not available: nothing was changed, retry later' }]);
    } finally {
      await server.stop();
    }
  });
});

describe('the volume', () => {
  it('images outlive a restart; what a crash left half-written or half-deleted is removed on start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imageserver-'));
    const first = await startApp({}, dir);
    const { id } = (await upload(await encoded('jpeg', 20, 20), alice, first)).json();
    await first.stop();
    await mkdir(join(dir, '.incoming', 'half-written'));
    await writeFile(join(dir, '.incoming', 'half-written', 'large.webp'), 'partial');
    await mkdir(join(dir, '.trash', 'half-deleted'));

    const second = await startApp({}, dir);
    try {
      expect((await second.http.inject(`/images/${id}/thumb`)).statusCode).toBe(200);
      expect(await readdir(join(dir, '.incoming'))).toEqual([]);
      expect(await readdir(join(dir, '.trash'))).toEqual([]);
      expect((await second.http.inject('/readyz')).json()).toEqual({ status: 'ready', checks: { volume: 'ok', started: 'ok' } });
    } finally {
      await second.stop();
    }
  });

  it('started before its volume is there, it is alive and unready, answers 503; once the volume is there it is ready and stores', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imageserver-'));
    dirs.push(dir);
    // Not mounted yet: where the volume goes is a file, so its directories cannot be made.
    await writeFile(join(dir, 'mount'), '');
    const service = await imageserver.start({ config: configOf({ IMAGES_DIR: join(dir, 'mount', 'images') }), logger, listen: false });
    try {
      const readyz = async () => (await service.http.inject('/readyz')).json();
      // The marker: the volume has been tried and refused.
      await waitFor(async () => ((await readyz()).checks.volume.includes('attempt 1 failed') ? true : undefined), 'the volume to be tried');
      expect((await service.http.inject('/healthz')).json()).toEqual({ status: 'ok' });
      expect(await readyz()).toEqual({
        status: 'unready',
        checks: { volume: expect.stringMatching(/^error: connecting to volume: attempt \d+ failed \(ENOTDIR/), started: expect.stringMatching(/^error: connecting to volume/) },
      });
      const refused = await service.http.inject({ method: 'POST', url: '/images', payload: await encoded('jpeg', 20, 20), headers: { ...alice, 'content-type': 'image/jpeg' } });
      expect([refused.statusCode, refused.headers['retry-after'], refused.json().error]).toEqual([503, '1', 'unavailable']);

      await rm(join(dir, 'mount'));
      await waitFor(async () => ((await readyz()).status === 'ready' ? true : undefined), 'the imageserver to be ready', 10_000);
      const stored = await service.http.inject({ method: 'POST', url: '/images', payload: await encoded('jpeg', 20, 20), headers: { ...alice, 'content-type': 'image/jpeg' } });
      expect(stored.statusCode).toBe(201);
    } finally {
      await service.stop();
    }
  });

  it('answers 405 with Allow for a method a known path does not take', async () => {
    const server = await startApp();
    try {
      const put = await server.http.inject({ method: 'PUT', url: '/images' });
      expect([put.statusCode, put.headers.allow, put.json().error]).toEqual([405, 'POST', 'method_not_allowed']);
    } finally {
      await server.stop();
    }
  });

  it('serves an image stored before AVIF variants were made: its WebP files as before, no AVIF', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imageserver-'));
    const server = await startApp({}, dir);
    try {
      const { id } = (await upload(await encoded('jpeg', 20, 10), alice, server)).json();
      // As the imageserver wrote it then: one WebP file a variant, its size as `bytes`.
      const stored = join(dir, id.slice(-2), id);
      const sizes = { width: 20, height: 10, bytes: 44 };
      await writeFile(join(stored, 'meta.json'), JSON.stringify({ id, ownerId: 'alice', createdAt: '2026-01-01T00:00:00.000Z', width: 20, height: 10, variants: { large: sizes, medium: sizes, thumb: sizes } }));
      for (const name of ['large', 'medium', 'thumb']) await rm(join(stored, `${name}.avif`));

      const thumb = { width: 20, height: 10, type: 'image/webp', bytes: 44, url: `/images/${id}/thumb`, formats: { webp: { type: 'image/webp', bytes: 44, url: `/images/${id}/thumb.webp` } } };
      expect((await server.http.inject(`/images/${id}`)).json().variants.thumb).toEqual(thumb);
      expect((await server.http.inject(`/images/${id}/thumb`)).statusCode).toBe(200);
      const avif = await server.http.inject(`/images/${id}/thumb.avif`);
      expect([avif.statusCode, avif.json()]).toEqual([404, { error: 'not_found', errors: [{ field: 'format', rule: 'this image has no avif files (it was stored before they were made)' }] }]);
    } finally {
      await server.stop();
    }
  });

  /** Starts src/index.ts as a process with these variables beside a valid JWT_SECRET. */
  const runIndex = (env: Record<string, string>) => spawnSync(process.execPath, [fileURLToPath(new URL('./index.ts', import.meta.url))], {
    env: { ...process.env, JWT_SECRET: SECRET, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });

  it('src/index.ts stops with one clear line and exit code 78 on a bad value', () => {
    const result = runIndex({ MAX_PIXELS: 'lots' });
    expect(result.status).toBe(78);
    expect(result.stderr.trim()).toBe('config: MAX_PIXELS must be an integer between 1 and 250000000 (got "lots")');
  });

  it('src/index.ts stops with exit code 78 on OIDC_ISSUER without OIDC_AUDIENCE', () => {
    const result = runIndex({ OIDC_ISSUER: 'https://idp.example' });
    expect(result.status).toBe(78);
    expect(result.stderr.trim()).toBe('config: OIDC_AUDIENCE is required when OIDC_ISSUER is set');
  });
});
