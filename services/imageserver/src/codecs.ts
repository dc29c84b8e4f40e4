import type { ImageserverConfig } from './config.ts';
import type { ImageCodec } from './variants.ts';

/** The codec `IMAGE_CODEC` names; only its library is loaded. */
export async function loadCodec(config: Pick<ImageserverConfig, 'IMAGE_CODEC' | 'MAX_PIXELS'>): Promise<ImageCodec> {
  if (config.IMAGE_CODEC === 'sharp') return (await import('./sharp-codec.ts')).createSharpCodec({ maxPixels: config.MAX_PIXELS });
  return (await import('./napi-codec.ts')).createNapiCodec();
}
