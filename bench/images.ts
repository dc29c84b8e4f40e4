/**
 * Imageserver: how many phone photos a second it turns into variants, and how fast it serves them.
 * The imageserver runs as its own process (services/imageserver/src/index.ts, default settings:
 * PROCESSING_CONCURRENCY=2) on a fresh IMAGES_DIR; this process uploads a 12-megapixel JPEG
 * (4032 × 3024, the size of a phone's photo) `--uploads` times from `--clients` at once, then
 * asks for one `thumb` with autocannon for 5 s.
 *
 *   node bench/images.ts [--uploads 40] [--clients 4]
 *
 * Prints `name=value` lines: upload_12mp_per_s, upload_12mp_p50_ms, upload_12mp_p99_ms,
 * thumb_get_per_s, thumb_get_p99_ms. Needs no stack.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Transformer } from '@napi-rs/image';
import autocannon from 'autocannon';
import { signToken } from '@pushtech/auth';
import { freePort, waitFor } from '@pushtech/testing';

const { values } = parseArgs({ options: { uploads: { type: 'string', default: '40' }, clients: { type: 'string', default: '4' } } });
const uploads = Number(values.uploads);
const clients = Number(values.clients);
const SECRET = 'bench-images-secret-of-at-least-32-chars';

/** A photo-like picture: smooth gradients with sensor-like noise, so the JPEG is of a phone's size. */
async function phonePhoto(width: number, height: number): Promise<Buffer> {
  const noise = randomBytes(width * height);
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * width + x;
      const n = (noise[at]! >> 4) - 8;
      pixels[at * 4] = Math.max(0, Math.min(255, (x * 255) / width + n));
      pixels[at * 4 + 1] = Math.max(0, Math.min(255, (y * 255) / height + n));
      pixels[at * 4 + 2] = Math.max(0, Math.min(255, 128 + 100 * Math.sin(x / 97) * Math.cos(y / 61) + n));
      pixels[at * 4 + 3] = 255;
    }
  }
  return Transformer.fromRgbaPixels(pixels, width, height).jpeg(90);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const dir = await mkdtemp(join(tmpdir(), 'bench-images-'));
const port = await freePort();
const child = spawn(process.execPath, [fileURLToPath(new URL('../services/imageserver/src/index.ts', import.meta.url))], {
  env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', IMAGES_DIR: dir, JWT_SECRET: SECRET, LOG_LEVEL: 'warn', MAX_WAITING_UPLOADS: String(clients) },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
try {
  await waitFor(async () => ((await fetch(`${base}/readyz`).catch(() => undefined))?.ok ? true : undefined), 'the imageserver', 20_000);
  const photo = await phonePhoto(4032, 3024);
  const headers = { 'content-type': 'image/jpeg', authorization: `Bearer ${await signToken('bench', SECRET)}` };
  console.log(`photo: 4032×3024 JPEG, ${(photo.length / 1e6).toFixed(1)} MB; ${uploads} uploads from ${clients} clients`);

  const upload = async () => {
    const started = performance.now();
    const response = await fetch(`${base}/images`, { method: 'POST', body: photo, headers });
    if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
    return { ms: performance.now() - started, image: (await response.json()) as { variants: { thumb: { url: string } } } };
  };
  await upload(); // warm-up
  const times: number[] = [];
  let next = 0;
  let thumbUrl = '';
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next++ < uploads) {
      const { ms, image } = await upload();
      times.push(ms);
      thumbUrl = image.variants.thumb.url;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);

  const get = await autocannon({ url: `${base}${thumbUrl}`, connections: 16, duration: 5 });
  const figures = {
    upload_12mp_per_s: uploads / seconds,
    upload_12mp_p50_ms: percentile(times, 50),
    upload_12mp_p99_ms: percentile(times, 99),
    thumb_get_per_s: get.requests.average,
    thumb_get_p99_ms: get.latency.p99,
  };
  for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value.toFixed(name.endsWith('_ms') ? 1 : 2)}`);
} finally {
  child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
