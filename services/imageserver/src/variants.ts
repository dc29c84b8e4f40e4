import { ResizeFit, Transformer } from '@napi-rs/image';
import type { ImageHeader } from './image-header.ts';

/** The sizes served: each fits inside a square of `box` pixels, never larger than the upload. */
export const VARIANTS = { large: 2048, medium: 1024, thumb: 256 } as const;
export type VariantName = keyof typeof VARIANTS;
export const VARIANT_NAMES = Object.keys(VARIANTS) as VariantName[];
export const VARIANT_TYPE = 'image/webp';
const WEBP_QUALITY = 80;

export interface Variant {
  width: number;
  height: number;
  bytes: Buffer;
}

/** `width` × `height` scaled down (never up) to fit inside `box` × `box`, at least 1 pixel each way. */
export function fitInside(width: number, height: number, box: number): { width: number; height: number } {
  const scale = Math.min(1, box / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** EXIF orientations 5–8 turn the picture a quarter: its width is the file's height. */
const turnsAQuarter = (orientation: number) => orientation >= 5 && orientation <= 8;

/**
 * The image's upright size, and every variant of it as WebP, upright as `header.orientation` says. The output
 * carries pixels only: no EXIF (a phone photo's carries where it was taken) or other metadata.
 * The file is decoded once; the smaller variants are made from the largest one's pixels.
 * Throws when `bytes` cannot be decoded.
 */
export async function makeVariants(bytes: Buffer, header: ImageHeader): Promise<{ width: number; height: number; variants: Record<VariantName, Variant> }> {
  const { width, height, orientation } = header;
  const upright = turnsAQuarter(orientation) ? { width: height, height: width } : { width, height };
  const largest = fitInside(upright.width, upright.height, VARIANTS.large);
  // Resizing also makes the pixels RGBA, whatever the file held (grey, palette, RGB).
  const pixels = await new Transformer(bytes).rotate(orientation).fastResize({ ...largest, fit: ResizeFit.Fill }).rawPixels();
  if (pixels.length !== largest.width * largest.height * 4) throw new Error(`decoded ${pixels.length} bytes for ${largest.width}×${largest.height} RGBA`);

  const variants = {} as Record<VariantName, Variant>;
  for (const name of VARIANT_NAMES) {
    const size = fitInside(upright.width, upright.height, VARIANTS[name]);
    const image = Transformer.fromRgbaPixels(pixels, largest.width, largest.height);
    if (size.width !== largest.width || size.height !== largest.height) image.fastResize({ ...size, fit: ResizeFit.Fill });
    variants[name] = { ...size, bytes: await image.webp(WEBP_QUALITY) };
  }
  return { ...upright, variants };
}
