import { describe, expect, it } from 'vitest';
import { acceptsOnlyImages, beaconType, TRANSPARENT_GIF } from './beacon-reply.ts';

describe('beacon reply', () => {
  it('the GIF is a 1×1 GIF89a', () => {
    expect(TRANSPARENT_GIF.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    expect(TRANSPARENT_GIF.readUInt16LE(6)).toBe(1);
    expect(TRANSPARENT_GIF.readUInt16LE(8)).toBe(1);
  });

  it('a type ending in .gif asks for the GIF; the suffix is not part of the type', () => {
    expect(beaconType('page.view.gif')).toEqual({ type: 'page.view', gif: true });
    expect(beaconType('page.view')).toEqual({ type: 'page.view', gif: false });
  });

  it.each([
    ['image/*', true],
    ['image/gif', true],
    ['image/webp,image/png;q=0.9', true],
    ['image/gif, */*;q=0', true],
    ['image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', false],
    ['*/*', false],
    ['text/html,image/gif', false],
    ['application/json', false],
    ['', false],
    [undefined, false],
  ])('Accept %j → only images: %s', (accept, expected) => {
    expect(acceptsOnlyImages(accept)).toBe(expected);
  });
});
