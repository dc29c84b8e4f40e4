/**
 * Imageserver: how many phone photos a second it turns into variants (WebP and AVIF, three sizes),
 * with each image library it can use (IMAGE_CODEC: sharp, napi), and how fast it serves them.
 * One imageserver process a codec (services/imageserver/src/index.ts, default settings:
 * PROCESSING_CONCURRENCY=2), each on a fresh IMAGES_DIR; this process uploads the same
 * 12-megapixel JPEG (4032 × 3024, the size of a phone's photo) `--uploads` times a codec from
 * `--clients` at once, in `--rounds` that take turns between the codecs (so that a change in the
 * machine's load falls on both alike), then asks each for one `thumb` with autocannon for 5 s.
 *
 *   node bench/images.ts [--uploads 40] [--clients 4] [--rounds 4]
 *
 * Prints `name=value` lines, each of upload_12mp_per_s, upload_12mp_p50_ms, upload_12mp_p99_ms,
 * upload_12mp_cpu_ms (the imageserver's CPU time an upload, all its threads: steadier than the
 * rates on a machine that others share), large_webp_bytes, large_avif_bytes, thumb_get_per_s and
 * thumb_get_p99_ms once a codec (`_sharp`, `_napi`), then images_sharp_vs_napi_ratio (uploads/s
 * with sharp ÷ with napi). Needs no stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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

const { values } = parseArgs({
  options: { uploads: { type: 'string', default: '40' }, clients: { type: 'string', default: '4' }, rounds: { type: 'string', default: '4' } },
});
const uploads = Number(values.uploads);
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const SECRET = 'bench-images-secret-of-at-least-32-chars';
const CODECS = ['sharp', 'napi'] as const;
type Codec = (typeof CODECS)[number];

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

interface Server {
  codec: Codec;
  base: string;
  dir: string;
  child: ChildProcess;
  /** Upload times (ms), and the seconds and the imageserver's CPU seconds spent uploading, over every round. */
  times: number[];
  seconds: number;
  cpuSeconds: number;
  image?: UploadedImage;
}

interface UploadedImage {
  variants: { thumb: { url: string }; large: { formats: { webp: { bytes: number }; avif: { bytes: number } } } };
}

/** The server process's CPU seconds so far (prom-client's default metric). */
async function cpuSeconds(server: Server): Promise<number> {
  const metrics = await (await fetch(`${server.base}/metrics`)).text();
  return Number(/^process_cpu_seconds_total(?:\{[^}]*\})? (\S+)$/m.exec(metrics)![1]);
}

async function startServer(codec: Codec): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), `bench-images-${codec}-`));
  const port = await freePort();
  const child = spawn(process.execPath, [fileURLToPath(new URL('../services/imageserver/src/index.ts', import.meta.url))], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', IMAGES_DIR: dir, JWT_SECRET: SECRET, LOG_LEVEL: 'warn', MAX_WAITING_UPLOADS: String(clients), IMAGE_CODEC: codec },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(`${base}/readyz`).catch(() => undefined))?.ok ? true : undefined), `the imageserver (${codec})`, 20_000);
  return { codec, base, dir, child, times: [], seconds: 0, cpuSeconds: 0 };
}

const servers: Server[] = [];
try {
  for (const codec of CODECS) servers.push(await startServer(codec));
  const photo = await phonePhoto(4032, 3024);
  const headers = { 'content-type': 'image/jpeg', authorization: `Bearer ${await signToken('bench', SECRET)}` };
  console.log(`photo: 4032×3024 JPEG, ${(photo.length / 1e6).toFixed(1)} MB; ${uploads} uploads a codec from ${clients} clients, in ${rounds} rounds taking turns`);

  const upload = async (server: Server) => {
    const started = performance.now();
    const response = await fetch(`${server.base}/images`, { method: 'POST', body: photo, headers });
    if (response.status !== 201) throw new Error(`upload (${server.codec}) answered ${response.status}: ${await response.text()}`);
    server.image = (await response.json()) as UploadedImage;
    return performance.now() - started;
  };
  for (const server of servers) await upload(server); // warm-up

  for (let round = 0; round < rounds; round++) {
    for (const server of servers) {
      let left = Math.round(uploads / rounds);
      const started = performance.now();
      const cpuBefore = await cpuSeconds(server);
      await Promise.all(Array.from({ length: clients }, async () => {
        while (left-- > 0) server.times.push(await upload(server));
      }));
      server.seconds += (performance.now() - started) / 1000;
      server.cpuSeconds += (await cpuSeconds(server)) - cpuBefore;
    }
  }

  const perSecond = {} as Record<Codec, number>;
  for (const server of servers) {
    const times = server.times.toSorted((a, b) => a - b);
    const { variants } = server.image!;
    const get = await autocannon({ url: `${server.base}${variants.thumb.url}`, connections: 16, duration: 5 });
    perSecond[server.codec] = times.length / server.seconds;
    const figures = {
      upload_12mp_per_s: perSecond[server.codec],
      upload_12mp_p50_ms: percentile(times, 50),
      upload_12mp_p99_ms: percentile(times, 99),
      upload_12mp_cpu_ms: (server.cpuSeconds * 1000) / times.length,
      large_webp_bytes: variants.large.formats.webp.bytes,
      large_avif_bytes: variants.large.formats.avif.bytes,
      thumb_get_per_s: get.requests.average,
      thumb_get_p99_ms: get.latency.p99,
    };
    for (const [name, value] of Object.entries(figures)) console.log(`${name}_${server.codec}=${value.toFixed(name.endsWith('_ms') ? 1 : name.endsWith('_bytes') ? 0 : 2)}`);
  }
  console.log(`images_sharp_vs_napi_ratio=${(perSecond.sharp / perSecond.napi).toFixed(2)}`);
} finally {
  for (const server of servers) {
    server.child.kill('SIGTERM');
    await rm(server.dir, { recursive: true, force: true });
  }
}
