import { int, oneOf, secret, string, type ConfigOf } from '@pushtech/config';
import { JWT_SECRET_MIN_LENGTH, oidcConfig } from '@pushtech/auth';
import { serviceConfig } from '@pushtech/service';

/** Every variable the imageserver reads (README has the table, `.env.example` the defaults). */
export const imageserverConfigSpec = {
  ...serviceConfig({ port: 8091 }),
  /** The volume the images live on. */
  IMAGES_DIR: string({ default: '.images' }),
  /** The same key as storage's: uploads and deletes need a bearer token. */
  JWT_SECRET: secret({ minLength: JWT_SECRET_MIN_LENGTH }),
  /** The operator's OpenID Connect issuer: its tokens are taken too, their user `oidc:<sub>` (as on the website and storage). */
  ...oidcConfig(),
  /** Largest upload accepted, in bytes (413 beyond). */
  MAX_UPLOAD_BYTES: int({ default: 10 * 1024 * 1024, min: 1024, max: 100 * 1024 * 1024 }),
  /** Largest width × height decoded (400 beyond): decoding takes 4 bytes a pixel. */
  MAX_PIXELS: int({ default: 40_000_000, min: 1, max: 250_000_000 }),
  /** Uploads decoded at once; each takes a core and up to 4 × MAX_PIXELS bytes while it lasts. */
  PROCESSING_CONCURRENCY: int({ default: 2, min: 1, max: 64 }),
  /** Uploads waiting for their turn; beyond this the upload is answered 503 with Retry-After. */
  MAX_WAITING_UPLOADS: int({ default: 16, min: 0, max: 10_000 }),
  /** The image library that decodes uploads and encodes the variants (README: how they differ). */
  IMAGE_CODEC: oneOf(['sharp', 'napi'], { default: 'sharp' }),
};

export type ImageserverConfig = ConfigOf<typeof imageserverConfigSpec>;
