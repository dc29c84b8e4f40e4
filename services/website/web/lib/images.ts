/** A listing's photo from the imageserver: AVIF where the browser shows it, WebP otherwise; `srcset` of the variants. */
import { getJson } from './api.ts';
import { h } from './dom.ts';

const WIDTHS = { thumb: 256, medium: 1024, large: 2048 } as const;
type Variant = keyof typeof WIDTHS;

export interface ImageVariants {
  variants: Record<Variant, { width: number; height: number }>;
}

/** The image's variants and their real sizes (a small upload's variants are all its own size). */
export function describeImage(id: string): Promise<ImageVariants> {
  return getJson<ImageVariants>(`/images/${encodeURIComponent(id)}`);
}

/**
 * A photo at its real sizes: each distinct width once, so that the browser's choice (and the
 * image's intrinsic size) is right for small uploads too.
 */
export function sizedPicture(id: string, image: ImageVariants, alt: string, sizes: string, lazy: boolean): HTMLPictureElement {
  const seen = new Set<number>();
  const variants = (Object.keys(WIDTHS) as Variant[]).filter((variant) => {
    const { width } = image.variants[variant];
    if (seen.has(width)) return false;
    seen.add(width);
    return true;
  });
  const set = (format: '' | '.avif') => variants.map((variant) => `/images/${encodeURIComponent(id)}/${variant}${format} ${image.variants[variant].width}w`).join(', ');
  const largest = image.variants[variants.at(-1)!];
  return h('picture', {},
    h('source', { type: 'image/avif', srcset: set('.avif'), sizes }),
    h('img', { src: `/images/${encodeURIComponent(id)}/${variants.at(-1)}`, srcset: set(''), sizes, alt, width: largest.width, height: largest.height, loading: lazy ? 'lazy' : undefined, decoding: 'async' }));
}

/** The thumb variant (lists, cards), shown at 64 px. */
export function thumb(id: string, alt = ''): HTMLPictureElement {
  const base = `/images/${encodeURIComponent(id)}/thumb`;
  return h('picture', {}, h('source', { type: 'image/avif', srcset: `${base}.avif` }),
    h('img', { src: base, alt, width: 64, height: 64, loading: 'lazy', decoding: 'async' }));
}
