import { hostPorts, int, list, secret, string, url, type ConfigOf } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { JWT_SECRET_MIN_LENGTH, oidcConfig } from '@pushtech/auth';
import { serviceConfig } from '@pushtech/service';

/** Every variable the storage service reads (README has the table, `.env.example` the defaults). */
export const storageConfigSpec = {
  ...serviceConfig({ port: 8083 }),
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  MONGO_URL: url({ protocols: ['mongodb:', 'mongodb+srv:'], default: 'mongodb://127.0.0.1:27117' }),
  MONGO_DB: string({ default: 'pushtech' }),
  /** HS256 key of the bearer tokens; at least 32 characters. */
  JWT_SECRET: secret({ minLength: JWT_SECRET_MIN_LENGTH }),
  /** The operator's OpenID Connect issuer: its tokens are taken too, their user `oidc:<sub>` (as on the website). */
  ...oidcConfig(),
  LISTINGS_TOPIC: string({ default: topics.listings.name }),
  MATCHES_TOPIC: string({ default: topics.matches.name }),
  /** Device registrations and removals (key: user id). */
  USERS_TOPIC: string({ default: topics.users.name }),
  PROJECTOR_GROUP: string({ default: 'storage-projector' }),
  /** How long a create or update waits for the projection before answering 202. */
  READ_YOUR_WRITES_TIMEOUT_MS: int({ default: 5_000, min: 0, max: 60_000 }),
  /** Hosts (and their subdomains) a Web Push endpoint may be on; empty: any https host. */
  WEB_PUSH_ENDPOINT_HOSTS: list({ default: [] }),
};

export type StorageConfig = ConfigOf<typeof storageConfigSpec>;
