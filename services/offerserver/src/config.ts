import { bool, hostPorts, int, list, secret, string, url, type ConfigOf } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { JWT_SECRET_MIN_LENGTH } from '@pushtech/auth';
import { serviceConfig } from '@pushtech/service';

/** Every variable the offer server reads (README has the table, `.env.example` the defaults). */
export const offerserverConfigSpec = {
  ...serviceConfig({ port: 8096 }),
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  MONGO_URL: url({ protocols: ['mongodb:', 'mongodb+srv:'], default: 'mongodb://127.0.0.1:27117' }),
  MONGO_DB: string({ default: 'pushtech' }),
  /** HS256 key of the bearer tokens (the same as storage's); the sources API takes only ADMIN_USER_IDS. */
  JWT_SECRET: secret({ minLength: JWT_SECRET_MIN_LENGTH }),
  /** The token subjects (`sub`) allowed to manage sources. */
  ADMIN_USER_IDS: list({ default: ['admin'] }),
  LISTINGS_TOPIC: string({ default: topics.listings.name }),
  /** Run the import loop in this instance (false: API only). */
  IMPORT_ENABLED: bool({ default: true }),
  /** How many due sources one check claims. */
  IMPORT_BATCH_SIZE: int({ default: 50, min: 1, max: 1_000 }),
  /** Fetches running at once in this instance. */
  IMPORT_CONCURRENCY: int({ default: 8, min: 1, max: 256 }),
  /** Pause between due checks when nothing was due. */
  IMPORT_POLL_MS: int({ default: 1_000, min: 10, max: 60_000 }),
  /** How long a claim on a source holds; another instance may take the source after it. */
  IMPORT_LEASE_MS: int({ default: 120_000, min: 1_000, max: 3_600_000 }),
  /** Back-off after a failed fetch: first delay and cap (exponential with jitter). */
  IMPORT_BACKOFF_INITIAL_MS: int({ default: 300_000, min: 10, max: 86_400_000 }),
  IMPORT_BACKOFF_MAX_MS: int({ default: 21_600_000, min: 10, max: 604_800_000 }),
  /** 404/410 answers in a row after which a source is marked gone (no more fetches until re-enabled). */
  IMPORT_GONE_AFTER: int({ default: 3, min: 1, max: 100 }),
  /** Requests per host and clock minute, all instances together (robots.txt and images included). */
  FETCH_HOST_PER_MINUTE: int({ default: 30, min: 1, max: 100_000 }),
  FETCH_TIMEOUT_MS: int({ default: 15_000, min: 100, max: 300_000 }),
  FETCH_MAX_BYTES: int({ default: 5 * 1024 * 1024, min: 1_024, max: 100 * 1024 * 1024 }),
  FETCH_MAX_REDIRECTS: int({ default: 5, min: 0, max: 20 }),
  /** Allow fetching private, loopback and link-local addresses (SSRF guard off: tests, local demo). */
  FETCH_ALLOW_PRIVATE: bool({ default: false }),
  FETCH_USER_AGENT: string({ default: 'PushtechOfferServer/0.1 (+https://github.com/pushtech/pushtech/blob/main/services/offerserver/README.md)' }),
  /** Most items read from one fetch (the newest first, as the source lists them). */
  IMPORT_MAX_ITEMS: int({ default: 200, min: 1, max: 5_000 }),
  /** The imageserver's base URL (its upload path is `POST /images`); empty: items' images are not imported. */
  IMAGESERVER_URL: string({ default: '' }),
};

export type OfferserverConfig = ConfigOf<typeof offerserverConfigSpec>;
