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

  it('the core and the React Native bundle have no DOM in them', async () => {
    for (const bundle of (await buildBundles()).filter((b) => b.file !== 'tracker-sdk.browser.js')) {
      expect(bundle.code, bundle.file).not.toMatch(/\b(window|document|navigator|indexedDB|localStorage)\b/);
    }
  });
});
