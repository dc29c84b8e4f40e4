import { string, url, type ConfigOf } from '@pushtech/config';
import { serviceConfig } from '@pushtech/service';

/** Every variable the website reads (README has the table, `.env.example` the defaults). */
export const websiteConfigSpec = {
  ...serviceConfig({ port: 8095 }),
  /**
   * Storage's public API, for the writes the site makes for a signed-in user (the browser reads
   * `/listings…` itself, on its own origin: nginx routes it to storage).
   */
  STORAGE_URL: url({ protocols: ['http:', 'https:'], default: 'http://127.0.0.1:8083' }),
  /** The imageserver, for uploads made for a signed-in user. */
  IMAGESERVER_URL: url({ protocols: ['http:', 'https:'], default: 'http://127.0.0.1:8091' }),
  /**
   * A raster tile URL template (`https://tiles.example.org/{z}/{x}/{y}.png`); empty: the map
   * draws the offline basemap the site ships (Natural Earth countries) with a scale bar.
   */
  MAP_TILES_URL: string({ default: '' }),
  /** Shown in the map's corner when MAP_TILES_URL is set (the tiles' licence asks for it). */
  MAP_ATTRIBUTION: string({ default: '' }),
};

export type WebsiteConfig = ConfigOf<typeof websiteConfigSpec>;

/** The origin of MAP_TILES_URL ('' without one): the page's CSP lets images come from it. */
export function tilesOrigin(config: WebsiteConfig): string {
  if (config.MAP_TILES_URL === '') return '';
  return new URL(config.MAP_TILES_URL.replaceAll(/\{[a-z]\}/g, '0')).origin;
}
