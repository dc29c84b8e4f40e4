import { ChromaSubsampling, ResizeFit, Transformer } from '@napi-rs/image';
import { readImageHeader } from './image-header.ts';
import { uprightSize, VARIANT_NAMES, variantSizes, WEBP_QUALITY, type ImageCodec, type Variant, type VariantName } from './variants.ts';

/** rav1e's fastest preset: AVIF encoding is otherwise several times WebP's. */
const AVIF_SPEED = 10;
/** rav1e's scale: see sharp-codec.ts's AVIF_QUALITY (the same files by size and PSNR). */
const AVIF_QUALITY = 50;

/**
 * `@napi-rs/image` (MIT; Rust's image crate, libwebp, rav1e). The header is read by
 * image-header.ts, which knows JPEG, PNG and WebP; this library decodes HEIC only on macOS and
 * Windows. A truncated JPEG is decoded with its missing rows grey (sharp refuses it).
 */
export function createNapiCodec(): ImageCodec {
  return {
    name: 'napi',
    decodes: ['jpeg', 'png', 'webp'],
    async probe(bytes) {
      const header = readImageHeader(bytes);
      if (header === undefined) throw new Error('its header is incomplete or damaged');
      return header;
    },
    async makeVariants(bytes, header) {
      const upright = uprightSize(header);
      const sizes = variantSizes(upright);
      const largest = sizes.large;
      // Resizing also makes the pixels RGBA, whatever the file held (grey, palette, RGB).
      const pixels = await new Transformer(bytes).rotate(header.orientation).fastResize({ ...largest, fit: ResizeFit.Fill }).rawPixels();
      if (pixels.length !== largest.width * largest.height * 4) throw new Error(`decoded ${pixels.length} bytes for ${largest.width}×${largest.height} RGBA`);

      const variants = {} as Record<VariantName, Variant>;
      for (const name of VARIANT_NAMES) {
        const size = sizes[name];
        const image = Transformer.fromRgbaPixels(pixels, largest.width, largest.height);
        if (size.width !== largest.width || size.height !== largest.height) image.fastResize({ ...size, fit: ResizeFit.Fill });
        const webp = await image.webp(WEBP_QUALITY);
        const avif = await image.avif({ quality: AVIF_QUALITY, speed: AVIF_SPEED, chromaSubsampling: ChromaSubsampling.Yuv420 });
        variants[name] = { ...size, files: { webp, avif } };
      }
      return { ...upright, variants };
    },
  };
}
