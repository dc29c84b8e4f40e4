/**
 * The browser code, bundled once at start by esbuild (plain TypeScript modules, no framework)
 * and held in memory, each file with its gzip and brotli forms made ahead so that a request
 * costs no compression. Bundles are named by their hash (cached for a year); the service worker
 * keeps a fixed name (`/sw.js`, scope `/`) and is revalidated on every load.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

export interface Asset {
  type: string;
  etag: string;
  /** Hash-named files never change: cached for a year. */
  immutable: boolean;
  identity: Buffer;
  gzip: Buffer;
  br: Buffer;
}

/** A page's bundle: its script and its styles (URLs). */
export interface PageBundle {
  script: string;
  styles: string[];
}

export const PAGE_NAMES = ['home', 'listing', 'my', 'account'] as const;
export type PageName = (typeof PAGE_NAMES)[number];

export interface Assets {
  files: Map<string, Asset>;
  pages: Record<PageName, PageBundle>;
}

const webDir = new URL('../web/', import.meta.url).pathname;
const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

function typeOf(path: string): string {
  return TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';
}

function asset(path: string, body: Buffer, immutable: boolean): Asset {
  return {
    type: typeOf(path),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    immutable,
    identity: body,
    gzip: gzipSync(body, { level: 9 }),
    br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
  };
}

const OUTDIR = 'website-assets';
/** `/assets/home-AB12.js` from esbuild's output path (absolute in `outputFiles`, relative in the metafile). */
const publicPath = (path: string) => `/assets/${path.slice(path.lastIndexOf(`${OUTDIR}/`) + OUTDIR.length + 1)}`;

export async function buildAssets(): Promise<Assets> {
  const outdir = `/${OUTDIR}`;
  const pagesBuild = await build({
    entryPoints: Object.fromEntries(PAGE_NAMES.map((name) => [name, `${webDir}${name}.ts`])),
    absWorkingDir: webDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    outdir,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    assetNames: '[name]-[hash]',
    loader: { '.png': 'file', '.svg': 'file' },
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const worker = await build({
    entryPoints: [`${webDir}sw.ts`],
    absWorkingDir: webDir,
    bundle: true,
    format: 'iife',
    target: ['es2022'],
    minify: true,
    write: false,
    outfile: `${outdir}/sw.js`,
    logLevel: 'silent',
  });

  const files = new Map<string, Asset>();
  for (const file of pagesBuild.outputFiles) files.set(publicPath(file.path), asset(file.path, Buffer.from(file.contents), true));
  files.set('/sw.js', asset('sw.js', Buffer.from(worker.outputFiles[0]!.contents), false));
  // The offline basemap: Natural Earth's countries at 1:50m, as TopoJSON (the page converts it).
  const basemap = readFileSync(require.resolve('world-atlas/countries-50m.json'));
  files.set('/assets/countries-50m.json', asset('countries-50m.json', basemap, false));

  return { files, pages: pageBundles(pagesBuild.metafile) };
}

function pageBundles(metafile: Metafile): Record<PageName, PageBundle> {
  const pages = {} as Record<PageName, PageBundle>;
  for (const [path, output] of Object.entries(metafile.outputs)) {
    const name = PAGE_NAMES.find((page) => output.entryPoint === `${page}.ts`);
    if (name === undefined) continue;
    pages[name] = { script: publicPath(path), styles: output.cssBundle === undefined ? [] : [publicPath(output.cssBundle)] };
  }
  return pages;
}
