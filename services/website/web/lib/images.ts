/** A listing's photo from the imageserver: AVIF where the browser shows it, WebP otherwise; `srcset` of the variants. */
import { h } from './dom.ts';

const WIDTHS = { thumb: 256, medium: 1024, large: 2048 } as const;
type Variant = keyof typeof WIDTHS;

const srcset = (id: string, variants: Variant[], format: '' | '.avif') =>
  variants.map((variant) => `/images/${encodeURIComponent(id)}/${variant}${format} ${WIDTHS[variant]}w`).join(', ');

/** `sizes` says how wide it is shown; the browser picks the variant. */
export function picture(id: string, alt: string, options: { variants: Variant[]; sizes: string; width: number; height: number; lazy?: boolean }): HTMLPictureElement {
  const first = options.variants[0]!;
  return h('picture', {},
    h('source', { type: 'image/avif', srcset: srcset(id, options.variants, '.avif'), sizes: options.sizes }),
    h('img', {
      src: `/images/${encodeURIComponent(id)}/${first}`, srcset: srcset(id, options.variants, ''), sizes: options.sizes,
      alt, width: options.width, height: options.height, loading: options.lazy === false ? undefined : 'lazy', decoding: 'async',
    }));
}

export const thumb = (id: string, alt = '') => picture(id, alt, { variants: ['thumb'], sizes: '64px', width: 64, height: 64 });
