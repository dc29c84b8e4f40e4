/**
 * Bundles the SDK with esbuild (ESM, minified, everything inlined: the bundles have no imports)
 * into dist/, and prints each bundle's size minified and minified + gzipped. Exits 1 when one is
 * over the budget of 4 KB min+gzip.
 *
 *   npm run build -w packages/tracker-sdk
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const BUDGET_GZIP_BYTES = 4096;

const root = fileURLToPath(new URL('..', import.meta.url));

export const ENTRIES = {
  'tracker-sdk.browser.js': 'src/browser.ts',
  'tracker-sdk.react-native.js': 'src/react-native.ts',
  'tracker-sdk.js': 'src/index.ts',
} as const;

export interface Bundle {
  file: keyof typeof ENTRIES;
  code: string;
  minBytes: number;
  gzipBytes: number;
}

/** Builds every bundle in memory. */
export async function buildBundles(): Promise<Bundle[]> {
  return Promise.all(
    Object.entries(ENTRIES).map(async ([file, entry]) => {
      const result = await build({
        entryPoints: [`${root}${entry}`],
        bundle: true,
        minify: true,
        format: 'esm',
        target: 'es2020',
        platform: 'neutral',
        write: false,
        legalComments: 'none',
      });
      const code = result.outputFiles[0]!.text;
      return { file: file as Bundle['file'], code, minBytes: Buffer.byteLength(code), gzipBytes: gzipSync(code, { level: 9 }).length };
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bundles = await buildBundles();
  mkdirSync(`${root}dist`, { recursive: true });
  let over = false;
  for (const b of bundles) {
    writeFileSync(`${root}dist/${b.file}`, b.code);
    over ||= b.gzipBytes > BUDGET_GZIP_BYTES;
    console.log(`dist/${b.file}  ${b.minBytes} bytes min, ${b.gzipBytes} bytes min+gzip (budget ${BUDGET_GZIP_BYTES})`);
  }
  if (over) {
    console.error(`over the budget of ${BUDGET_GZIP_BYTES} bytes min+gzip`);
    process.exit(1);
  }
}
