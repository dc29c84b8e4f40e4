import type { ImageFormat, ImageHeader } from './image-header.ts';

/** The sizes served: each fits inside a square of `box` pixels, never larger than the upload. */
export const VARIANTS = { large: 2048, medium: 1024, thumb: 256 } as const;
export type VariantName = keyof typeof VARIANTS;
export const VARIANT_NAMES = Object.keys(VARIANTS) as VariantName[];

/** Every variant is stored in each of these formats; the first is what `/images/:id/:variant` serves. */
export const OUTPUT_FORMATS = ['webp', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const DEFAULT_FORMAT: OutputFormat = OUTPUT_FORMATS[0];
export const OUTPUT_TYPES: Record<OutputFormat, string> = { webp: 'image/webp', avif: 'image/avif' };
/** libwebp's 0–100 scale (both codecs use libwebp, with its default effort: the same files). */
export const WEBP_QUALITY = 80;

export interface Variant {
  width: number;
  height: number;
  files: Record<OutputFormat, Buffer>;
}

export interface MadeVariants {
  /** Of the upload, upright. */
  width: number;
  height: number;
  variants: Record<VariantName, Variant>;
}

/**
 * An image library, behind what the imageserver needs of it (`IMAGE_CODEC` picks one; both stay
 * so that `bench:images` can measure them against each other).
 */
export interface ImageCodec {
  readonly name: string;
  /** The input formats it decodes; the others are refused before it sees them. */
  readonly decodes: readonly ImageFormat[];
  /**
   * The size and EXIF orientation of `bytes` (already sniffed as `format`), read from the file's
   * header without decoding its pixels. Throws when the header is damaged.
   */
  probe(bytes: Buffer, format: ImageFormat): Promise<ImageHeader>;
  /**
   * Decodes `bytes` once, turns the picture upright as `header.orientation` says, and encodes every
   * variant in every output format, the smaller ones from the largest one's pixels. The files carry
   * pixels only: no EXIF (a phone photo's says where it was taken) or other metadata.
   * Throws when `bytes` cannot be decoded (damaged, truncated).
   */
  makeVariants(bytes: Buffer, header: ImageHeader): Promise<MadeVariants>;
}

/** `width` × `height` scaled down (never up) to fit inside `box` × `box`, at least 1 pixel each way. */
export function fitInside(width: number, height: number, box: number): { width: number; height: number } {
  const scale = Math.min(1, box / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** The picture's size once turned upright: EXIF orientations 5–8 turn it a quarter, so its width is the file's height. */
export function uprightSize({ width, height, orientation }: ImageHeader): { width: number; height: number } {
  return orientation >= 5 && orientation <= 8 ? { width: height, height: width } : { width, height };
}

/** The size of each variant of a picture of `upright` size. */
export function variantSizes(upright: { width: number; height: number }): Record<VariantName, { width: number; height: number }> {
  return Object.fromEntries(VARIANT_NAMES.map((name) => [name, fitInside(upright.width, upright.height, VARIANTS[name])])) as Record<VariantName, { width: number; height: number }>;
}
