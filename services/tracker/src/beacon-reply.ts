/** A 1×1 transparent GIF: the answer to a beacon loaded as an image. */
export const TRANSPARENT_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** `/t/page.view.gif` is event type `page.view`, answered with the GIF. */
export function beaconType(param: string): { type: string; gif: boolean } {
  return param.endsWith('.gif') ? { type: param.slice(0, -'.gif'.length), gif: true } : { type: param, gif: false };
}

/**
 * True when the client accepts only images (every media range it accepts is `image/…`),
 * e.g. `Accept: image/*`. Browsers' `<img>` also send `*\/*`, so they need the `.gif` path.
 */
export function acceptsOnlyImages(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return false;
  const accepted = accept.split(',').flatMap((range) => {
    const [mediaType = '', ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return q !== undefined && Number(q.slice(2)) === 0 ? [] : [mediaType];
  });
  return accepted.length > 0 && accepted.every((mediaType) => mediaType.startsWith('image/'));
}
