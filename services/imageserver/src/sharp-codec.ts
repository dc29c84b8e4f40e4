import sharp from 'sharp';
import { uprightSize, VARIANT_NAMES, variantSizes, WEBP_QUALITY, type ImageCodec, type Variant, type VariantName } from './variants.ts';

// Every upload is new: libvips' cache of recent operations would only hold their memory.
sharp.cache(false);

/** libaom's fastest of 0–9: AVIF encoding is otherwise several times WebP's. */
const AVIF_EFFORT = 0;
/**
 * libaom's scale: the `large` AVIF of bench:images' photo is then of the size and PSNR of
 * napi-codec.ts's (~15 kB, 39.7 dB; its WebP: 52 kB, 40.2 dB), so the codecs serve the same.
 */
const AVIF_QUALITY = 30;

/**
 * sharp (Apache-2.0) on its prebuilt libvips (LGPL-3.0, loaded as a shared library). It decodes
 * JPEG, PNG, WebP and AVIF; its libheif has no HEVC decoder, so a phone's HEIC (HEVC-coded) is
 * refused before it gets here. `failOn: 'error'` refuses truncated or corrupt pixel data rather
 * than filling it in; libjpeg's mere warnings (extra bytes after the picture) pass.
 * `limitInputPixels` repeats the imageserver's MAX_PIXELS check inside the decoder.
 */
export function createSharpCodec(options: { maxPixels: number }): ImageCodec {
  return {
    name: 'sharp',
    decodes: ['jpeg', 'png', 'webp', 'avif'],
    async probe(bytes, format) {
      // Reads the header only; the pixel limit is the caller's to check, with its own message.
      const { width, height, orientation } = await sharp(bytes, { limitInputPixels: false }).metadata();
      return { format, width, height, orientation: orientation ?? 1 };
    },
    async makeVariants(bytes, header) {
      const upright = uprightSize(header);
      const sizes = variantSizes(upright);
      // rotate(): upright as the EXIF orientation says; raw pixels carry no metadata on.
      const largest = await sharp(bytes, { failOn: 'error', limitInputPixels: options.maxPixels })
        .rotate()
        .resize({ ...sizes.large, fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });

      const variants = {} as Record<VariantName, Variant>;
      for (const name of VARIANT_NAMES) {
        const image = sharp(largest.data, { raw: largest.info }).resize({ ...sizes[name], fit: 'fill' });
        const webp = await image.clone().webp({ quality: WEBP_QUALITY }).toBuffer();
        const avif = await image.avif({ quality: AVIF_QUALITY, effort: AVIF_EFFORT }).toBuffer();
        variants[name] = { ...sizes[name], files: { webp, avif } };
      }
      return { ...upright, variants };
    },
  };
}
