import { Transformer } from '@napi-rs/image';
import { describe, expect, it } from 'vitest';
import { encoded, pixelAt, pngWithExif, webpWithExif, withExif } from './fixtures/test-images.ts';
import { readImageHeader } from './image-header.ts';
import { fitInside, makeVariants as makeVariantsOf, VARIANT_NAMES } from './variants.ts';

const makeVariants = (bytes: Buffer) => makeVariantsOf(bytes, readImageHeader(bytes)!);

const red = (pixel: number[]) => pixel[0]! > 200 && pixel[2]! < 60;
const blue = (pixel: number[]) => pixel[2]! > 200 && pixel[0]! < 60;

describe('fitInside', () => {
  it('scales down to fit the box, keeps the aspect ratio, never scales up', () => {
    expect(fitInside(4000, 3000, 2048)).toEqual({ width: 2048, height: 1536 });
    expect(fitInside(3000, 4000, 256)).toEqual({ width: 192, height: 256 });
    expect(fitInside(100, 50, 256)).toEqual({ width: 100, height: 50 });
    expect(fitInside(10_000, 1, 256)).toEqual({ width: 256, height: 1 });
  });
});

describe('makeVariants', () => {
  it('makes every variant as WebP of the size fitInside gives', async () => {
    const { width, height, variants } = await makeVariants(await encoded('jpeg', 3000, 1200));
    expect([width, height]).toEqual([3000, 1200]);
    const sizes = { large: [2048, 819], medium: [1024, 410], thumb: [256, 102] };
    for (const name of VARIANT_NAMES) {
      const metadata = await new Transformer(variants[name].bytes).metadata();
      expect([metadata.format, metadata.width, metadata.height], name).toEqual(['webp', ...sizes[name]]);
      expect([variants[name].width, variants[name].height]).toEqual(sizes[name]);
      expect(red(await pixelAt(variants[name].bytes, 2, 2)), name).toBe(true);
      expect(blue(await pixelAt(variants[name].bytes, sizes[name][0]! - 3, 2)), name).toBe(true);
    }
  });

  it('does not enlarge a small image', async () => {
    const { variants } = await makeVariants(await encoded('png', 120, 80));
    for (const name of VARIANT_NAMES) expect([variants[name].width, variants[name].height]).toEqual([120, 80]);
  });

  it('turns the picture upright as its EXIF orientation says, and serves none of its EXIF', async () => {
    // Orientation 6: the camera was turned a quarter clockwise; shown upright, the file's left (red) is on top.
    const photo = withExif(await encoded('jpeg', 400, 200), 6, 'GPS 52.5200 N 13.4050 E');
    expect((await new Transformer(photo).metadata(true)).orientation).toBe(6);
    const { width, height, variants } = await makeVariants(photo);
    expect([width, height]).toEqual([200, 400]);
    const large = variants.large.bytes;
    expect([variants.large.width, variants.large.height]).toEqual([200, 400]);
    expect(red(await pixelAt(large, 100, 5))).toBe(true);
    expect(blue(await pixelAt(large, 100, 394))).toBe(true);
    for (const name of VARIANT_NAMES) {
      expect(variants[name].bytes.includes('GPS 52.5200'), name).toBe(false);
      expect(variants[name].bytes.includes('Exif'), name).toBe(false);
    }
  });

  it.each(['png', 'webp'] as const)('turns a %s upright by its EXIF chunk too', async (format) => {
    const file = format === 'png' ? pngWithExif(await encoded('png', 400, 200), 6) : webpWithExif(await encoded('webp', 400, 200), 400, 200, 6);
    const { variants } = await makeVariants(file);
    expect([variants.large.width, variants.large.height]).toEqual([200, 400]);
    expect(red(await pixelAt(variants.large.bytes, 100, 5))).toBe(true);
    expect(blue(await pixelAt(variants.large.bytes, 100, 394))).toBe(true);
  });

  it('throws on a file that only looks like an image', async () => {
    const png = await encoded('png', 50, 50);
    const broken = Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 7)]);
    await expect(makeVariants(broken)).rejects.toThrow();
  });
});
