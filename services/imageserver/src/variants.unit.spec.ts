import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadCodec } from './codecs.ts';
import { encoded, heic, pixelAt, pngWithExif, webpWithExif, withExif } from './fixtures/test-images.ts';
import { sniffFormat } from './image-header.ts';
import { fitInside, OUTPUT_FORMATS, VARIANT_NAMES } from './variants.ts';

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

// What differs between the two codecs; everything else is the same test for both.
describe.each([
  { codecName: 'sharp', decodes: ['jpeg', 'png', 'webp', 'avif'], refusesTruncated: true },
  { codecName: 'napi', decodes: ['jpeg', 'png', 'webp'], refusesTruncated: false },
] as const)('the $codecName codec', ({ codecName, decodes, refusesTruncated }) => {
  const codecReady = loadCodec({ IMAGE_CODEC: codecName, MAX_PIXELS: 40_000_000 });
  /** As the app does: sniff, probe the header, make the variants. */
  const makeVariants = async (bytes: Buffer) => {
    const codec = await codecReady;
    return codec.makeVariants(bytes, await codec.probe(bytes, sniffFormat(bytes)!));
  };

  it('decodes the formats it says', async () => {
    expect((await codecReady).decodes).toEqual(decodes);
  });

  it('makes every variant in WebP and AVIF of the size fitInside gives, upright and of the right colours', async () => {
    const { width, height, variants } = await makeVariants(await encoded('jpeg', 3000, 1200));
    expect([width, height]).toEqual([3000, 1200]);
    const sizes = { large: [2048, 819], medium: [1024, 410], thumb: [256, 102] };
    for (const name of VARIANT_NAMES) {
      expect([variants[name].width, variants[name].height]).toEqual(sizes[name]);
      for (const format of OUTPUT_FORMATS) {
        const file = variants[name].files[format];
        const metadata = await sharp(file).metadata();
        expect([metadata.format, metadata.width, metadata.height], `${name}.${format}`).toEqual([format === 'avif' ? 'heif' : 'webp', ...sizes[name]]);
        if (format === 'avif') expect(metadata.compression).toBe('av1');
        expect(red(await pixelAt(file, 2, 2)), `${name}.${format}`).toBe(true);
        expect(blue(await pixelAt(file, sizes[name][0]! - 3, 2)), `${name}.${format}`).toBe(true);
      }
    }
  });

  it('does not enlarge a small image', async () => {
    const { variants } = await makeVariants(await encoded('png', 120, 80));
    for (const name of VARIANT_NAMES) expect([variants[name].width, variants[name].height]).toEqual([120, 80]);
  });

  it('turns the picture upright as its EXIF orientation says, and keeps none of its metadata', async () => {
    // Orientation 6: the camera was turned a quarter clockwise; shown upright, the file's left (red) is on top.
    const photo = withExif(await encoded('jpeg', 400, 200), 6, 'GPS 52.5200 N 13.4050 E');
    expect((await sharp(photo).metadata()).orientation).toBe(6);
    const { width, height, variants } = await makeVariants(photo);
    expect([width, height]).toEqual([200, 400]);
    expect([variants.large.width, variants.large.height]).toEqual([200, 400]);
    for (const format of OUTPUT_FORMATS) {
      expect(red(await pixelAt(variants.large.files[format], 100, 5)), format).toBe(true);
      expect(blue(await pixelAt(variants.large.files[format], 100, 394)), format).toBe(true);
    }
    for (const name of VARIANT_NAMES) {
      for (const format of OUTPUT_FORMATS) {
        const file = variants[name].files[format];
        expect(file.includes('GPS 52.5200'), `${name}.${format}`).toBe(false);
        expect(file.includes('Exif'), `${name}.${format}`).toBe(false);
        const metadata = await sharp(file).metadata();
        expect([metadata.exif, metadata.icc, metadata.xmp, metadata.orientation], `${name}.${format}`).toEqual([undefined, undefined, undefined, undefined]);
      }
    }
  });

  it.each(['png', 'webp'] as const)('turns a %s upright by its EXIF chunk too', async (format) => {
    const file = format === 'png' ? pngWithExif(await encoded('png', 400, 200), 6) : webpWithExif(await encoded('webp', 400, 200), 400, 200, 6);
    const { variants } = await makeVariants(file);
    expect([variants.large.width, variants.large.height]).toEqual([200, 400]);
    expect(red(await pixelAt(variants.large.files.webp, 100, 5))).toBe(true);
    expect(blue(await pixelAt(variants.large.files.webp, 100, 394))).toBe(true);
  });

  it.runIf(decodes.includes('avif' as never))('takes an AVIF upload', async () => {
    const { width, height, variants } = await makeVariants(await encoded('avif', 300, 100));
    expect([width, height, variants.thumb.width, variants.thumb.height]).toEqual([300, 100, 256, 85]);
    expect(red(await pixelAt(variants.thumb.files.webp, 2, 2))).toBe(true);
    expect(blue(await pixelAt(variants.thumb.files.webp, 250, 2))).toBe(true);
  });

  it('throws on a file that only looks like an image', async () => {
    const png = await encoded('png', 50, 50);
    const broken = Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 7)]);
    await expect(makeVariants(broken)).rejects.toThrow();
  });

  it.runIf(refusesTruncated)('throws on a truncated JPEG (failOn) rather than fill in the missing rows', async () => {
    const jpeg = await encoded('jpeg', 400, 300);
    await expect(makeVariants(jpeg.subarray(0, jpeg.length / 2))).rejects.toThrow(/premature end/);
  });
});

describe("sharp's prebuilt libvips", () => {
  it('reads a HEIC header but cannot decode HEVC: when this fails, HEIC uploads can be taken', async () => {
    expect(await sharp(heic()).metadata()).toMatchObject({ format: 'heif', compression: 'hevc', width: 64, height: 48 });
    await expect(sharp(heic()).raw().toBuffer()).rejects.toThrow(/HEVC/);
  });
});
