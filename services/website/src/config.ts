import { accountsConfig, checkAccountsConfig } from '@pushtech/accounts';
import { ConfigError, string, trustProxy, url, type ConfigOf } from '@pushtech/config';
import { serviceConfig } from '@pushtech/service';

/** Every variable the website reads (README has the table, `.env.example` the defaults). */
export const websiteConfigSpec = {
  ...serviceConfig({ port: 8095 }),
  /** Accounts and sign-in sessions live here (collections `accounts`, `sessions`). */
  MONGO_URL: url({ protocols: ['mongodb:', 'mongodb+srv:'], default: 'mongodb://127.0.0.1:27117' }),
  MONGO_DB: string({ default: 'pushtech' }),
  /** Behind nginx: the client's address (for the sign-in rate limits) is the one X-Forwarded-For names. */
  TRUST_PROXY: trustProxy(),
  /**
   * A raster tile URL template (`https://tiles.example.org/{z}/{x}/{y}.png`); empty: the map
   * draws the offline basemap the site ships (Natural Earth countries) with a scale bar.
   */
  MAP_TILES_URL: string({ default: '' }),
  /** Shown in the map's corner when MAP_TILES_URL is set (the tiles' licence asks for it). */
  MAP_ATTRIBUTION: string({ default: '' }),
  /** The notifier's VAPID public key (base64url); empty: alerts are saved but the browser is not asked for push. */
  VAPID_PUBLIC_KEY: string({ default: '' }),
  ...accountsConfig(),
};

export type WebsiteConfig = ConfigOf<typeof websiteConfigSpec>;

export function checkWebsiteConfig(config: WebsiteConfig): ConfigError[] {
  const errors = checkAccountsConfig(config);
  if (config.MAP_TILES_URL !== '' && !/^https?:\/\/.+\{z\}.*\{x\}.*\{y\}/.test(config.MAP_TILES_URL)) {
    errors.push(new ConfigError('MAP_TILES_URL', 'must be an http(s) URL template with {z}, {x} and {y}', config.MAP_TILES_URL));
  }
  return errors;
}

/** The origin of MAP_TILES_URL ('' without one): the page's CSP lets images come from it. */
export function tilesOrigin(config: WebsiteConfig): string {
  if (config.MAP_TILES_URL === '') return '';
  return new URL(config.MAP_TILES_URL.replaceAll(/\{[a-z]\}/g, '0')).origin;
}
