import { ConfigError, hostPorts, int, loadConfig, number, oneOf, string, url, type ConfigOf, type Reader } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { serviceConfig } from '@pushtech/service';
import { AUTH_SCHEMES, ONESIGNAL_CLIENTS } from './onesignal.ts';
import { URGENCIES, vapidSigningKey } from './web-push.ts';

/** A required secret: never echoed in an error line. */
function secret(): Reader<string> {
  const rule = 'a non-empty string';
  return {
    read(name, raw) {
      if (raw === undefined || raw.trim() === '') throw new ConfigError(name, `is required: ${rule}`);
      return raw.trim();
    },
    describe: () => `${rule} (required, secret)`,
  };
}

/** Optional: unset (or blank) is ''. A secret's value never appears in an error. */
function optional(rule: string, options: { secret?: boolean } = {}): Reader<string> {
  return {
    read: (_name, raw) => raw?.trim() ?? '',
    describe: () => `${rule} (optional${options.secret ? ', secret' : ''})`,
  };
}

/** Every variable the notifier reads (README has the table). */
export const configSpec = {
  /** /healthz, /readyz and /metrics only. */
  ...serviceConfig({ port: 8088 }),
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  MONGO_URL: url({ protocols: ['mongodb:', 'mongodb+srv:'], default: 'mongodb://127.0.0.1:27117' }),
  MONGO_DB: string({ default: 'pushtech' }),
  REQUESTS_TOPIC: string({ default: topics.notifyRequests.name }),
  NOTIFIER_GROUP: string({ default: 'notifier' }),
  /** OneSignal's API root; `/notifications` is appended. The local stand-in: http://127.0.0.1:8089. */
  ONESIGNAL_API_ROOT: url({ protocols: ['https:', 'http:'], default: 'https://api.onesignal.com' }),
  ONESIGNAL_APP_ID: string(),
  ONESIGNAL_API_KEY: secret(),
  ONESIGNAL_CLIENT: oneOf(ONESIGNAL_CLIENTS, { default: 'onesignal-node' }),
  ONESIGNAL_AUTH_SCHEME: oneOf(AUTH_SCHEMES, { default: 'Basic' }),
  ONESIGNAL_TIMEOUT_MS: int({ default: 10_000, min: 100, max: 300_000 }),
  /** Calls per second toward OneSignal; 0 switches the limit off. */
  RATE_LIMIT_PER_S: number({ default: 150, min: 0, max: 100_000 }),
  SEND_CONCURRENCY: int({ default: 16, min: 1, max: 1_000 }),
  QUEUE_MAX: int({ default: 10_000, min: 1, max: 10_000_000 }),
  RETRY_BASE_MS: int({ default: 1_000, min: 1, max: 3_600_000 }),
  RETRY_MAX_MS: int({ default: 60_000, min: 1, max: 86_400_000 }),
  RETRY_MAX_ATTEMPTS: int({ default: 10, min: 1, max: 1_000 }),
  RETRY_MAX_AGE_MS: int({ default: 900_000, min: 1, max: 7 * 86_400_000 }),
  /** Web Push (browsers, self-hosted): on when the three VAPID variables are set (`npm run vapid-keys`). */
  VAPID_PUBLIC_KEY: optional('base64url of the uncompressed P-256 public key (65 bytes)'),
  VAPID_PRIVATE_KEY: optional('base64url of the P-256 private key (32 bytes)', { secret: true }),
  VAPID_SUBJECT: optional('mailto: or https: contact of the operator'),
  WEB_PUSH_TTL_S: int({ default: 3_600, min: 0, max: 2_419_200 }),
  WEB_PUSH_URGENCY: oneOf(URGENCIES, { default: 'normal' }),
  WEB_PUSH_TIMEOUT_MS: int({ default: 10_000, min: 100, max: 300_000 }),
  /** Storage's device events: the notifier writes `device.removed` when a push service answers 404/410. */
  USERS_TOPIC: string({ default: topics.users.name }),
};

export type NotifierConfig = ConfigOf<typeof configSpec>;

/** Rules that involve two variables (`checkConfig` of the service: checked at start too). */
export function checkNotifierConfig(config: NotifierConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (config.ONESIGNAL_CLIENT === 'onesignal-node' && config.ONESIGNAL_AUTH_SCHEME !== 'Basic') {
    errors.push(new ConfigError('ONESIGNAL_AUTH_SCHEME', 'must be Basic with ONESIGNAL_CLIENT=onesignal-node (it always sends "Authorization: Basic <key>"); use ONESIGNAL_CLIENT=fetch for Key', config.ONESIGNAL_AUTH_SCHEME));
  }
  if (config.RETRY_MAX_MS < config.RETRY_BASE_MS) {
    errors.push(new ConfigError('RETRY_MAX_MS', `must be at least RETRY_BASE_MS (${config.RETRY_BASE_MS})`, String(config.RETRY_MAX_MS)));
  }
  errors.push(...vapidErrors(config));
  return errors;
}

/** The VAPID variables: all three or none; a key pair of P-256; a contact the push services accept. */
function vapidErrors(config: NotifierConfig): ConfigError[] {
  const set = (['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'] as const).filter((name) => config[name] !== '');
  if (set.length === 0) return [];
  if (set.length < 3) {
    return [new ConfigError(set.length === 1 ? set[0]! : set.join(', '), 'needs VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT all set (or none: no Web Push); npm run vapid-keys makes them')];
  }
  const errors: ConfigError[] = [];
  if (!/^(mailto:.+@.+|https:\/\/.+)$/.test(config.VAPID_SUBJECT)) errors.push(new ConfigError('VAPID_SUBJECT', 'must be a mailto: address or an https: URL', config.VAPID_SUBJECT));
  try {
    vapidSigningKey({ publicKey: config.VAPID_PUBLIC_KEY, privateKey: config.VAPID_PRIVATE_KEY });
  } catch (err) {
    const [name, ...rule] = (err as Error).message.split(' ');
    errors.push(new ConfigError(name!, rule.join(' ')));
  }
  return errors;
}

/** Web Push is on: the three VAPID variables are set. */
export const webPushEnabled = (config: NotifierConfig) => config.VAPID_PUBLIC_KEY !== '';

/** The config as the environment `env` gives it, the rules between variables checked; throws `ConfigErrors`. */
export function loadNotifierConfig(env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  return loadConfig(configSpec, env, checkNotifierConfig);
}
