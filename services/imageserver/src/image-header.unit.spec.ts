import { describe, expect, it } from 'vitest';
import { encoded, heic, pngWithExif, webpWithExif, withExif } from './fixtures/test-images.ts';
import { readImageHeader, sniffFormat } from './image-header.ts';

describe('sniffFormat', () => {
  it('tells JPEG, PNG, WebP, AVIF and HEIC (HEVC) apart by their first bytes', async () => {
    for (const format of ['jpeg', 'png', 'webp', 'avif'] as const) expect(sniffFormat(await encoded(format, 8, 8)), format).toBe(format);
    expect(sniffFormat(heic())).toBe('heic');
  });

  it('is undefined for anything else, an image library would take or not', () => {
    for (const body of ['GIF89a\x01\x00\x01\x00', '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', 'II*\0\x08\0\0\0', '', '\0\0\0\x18ftypmp42\0\0\0\0mp42isom']) {
      expect(sniffFormat(Buffer.from(body, 'latin1')), JSON.stringify(body)).toBeUndefined();
    }
  });
});

describe('readImageHeader', () => {
  it.each(['jpeg', 'png', 'webp', 'webpLossless'] as const)('reads the format and size of a %s file', async (format) => {
    const header = readImageHeader(await encoded(format, 37, 21));
    expect(header).toEqual({ format: format === 'webpLossless' ? 'webp' : format, width: 37, height: 21, orientation: 1 });
  });

  it('reads a PNG that declares 50,000 × 50,000 pixels without decoding it', () => {
    const png = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
    png.writeUInt32BE(13, 8);
    png.write('IHDR', 12, 'latin1');
    png.writeUInt32BE(50_000, 16);
    png.writeUInt32BE(50_000, 20);
    expect(readImageHeader(png)).toEqual({ format: 'png', width: 50_000, height: 50_000, orientation: 1 });
  });

  it('skips the segments before a JPEG frame (EXIF, tables)', async () => {
    const jpeg = await encoded('jpeg', 300, 200);
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0x10, 0x02]), Buffer.alloc(0x1000)]);
    expect(readImageHeader(Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]))).toEqual({ format: 'jpeg', width: 300, height: 200, orientation: 1 });
  });

  it('reads the EXIF orientation of a JPEG (APP1), a PNG (eXIf) and a WebP (EXIF chunk)', async () => {
    for (const orientation of [3, 6, 8]) {
      expect(readImageHeader(withExif(await encoded('jpeg', 40, 20), orientation, 'x'))).toEqual({ format: 'jpeg', width: 40, height: 20, orientation });
      expect(readImageHeader(pngWithExif(await encoded('png', 40, 20), orientation))).toEqual({ format: 'png', width: 40, height: 20, orientation });
      expect(readImageHeader(webpWithExif(await encoded('webp', 40, 20), 40, 20, orientation))).toEqual({ format: 'webp', width: 40, height: 20, orientation });
    }
  });

  it('is undefined for what is not an image, or ends before its size', async () => {
    expect(readImageHeader(Buffer.from('GIF89a\x01\x00\x01\x00'))).toBeUndefined();
    expect(readImageHeader(Buffer.from('{"not":"an image"}'))).toBeUndefined();
    expect(readImageHeader(Buffer.alloc(0))).toBeUndefined();
    for (const format of ['jpeg', 'png', 'webp'] as const) {
      const file = await encoded(format, 10, 10);
      expect(readImageHeader(file.subarray(0, 12)), format).toBeUndefined();
    }
  });
});
