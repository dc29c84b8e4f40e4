// The SDK's budget: each bundle at most 4 KB minified + gzipped, and self-contained (zero
// runtime dependencies: @pushtech/backoff's math is inlined). A size, not a timing.
import { describe, expect, it } from 'vitest';
import { BUDGET_GZIP_BYTES, buildBundles } from '../scripts/build.ts';

describe('bundles', () => {
  it(`are at most ${BUDGET_GZIP_BYTES} bytes min+gzip, with no import left`, async () => {
    const bundles = await buildBundles();
    expect(bundles.map((b) => b.file).sort()).toEqual(['tracker-sdk.browser.js', 'tracker-sdk.js', 'tracker-sdk.react-native.js']);
    for (const bundle of bundles) {
      expect(bundle.gzipBytes, bundle.file).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
      expect(bundle.code).not.toMatch(/\bimport\s*[({"'a-zA-Z]/);
    }
  });

  it('the core has no DOM in it', async () => {
    const core = (await buildBundles()).find((b) => b.file === 'tracker-sdk.js')!;
    expect(core.code).not.toMatch(/\b(window|document|navigator|indexedDB|localStorage)\b/);
  });
});
