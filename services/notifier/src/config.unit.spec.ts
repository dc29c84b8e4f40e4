import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigErrors } from '@pushtech/config';
import { loadNotifierConfig, webPushEnabled } from './config.ts';
import { generateVapidKeys } from './web-push.ts';

const required = { ONESIGNAL_APP_ID: '2f4c5b1e-8a9d-4e6f-b3c2-1d0e9f8a7b6c', ONESIGNAL_API_KEY: 'os_v2_app_secret' };

function errorsOf(env: Record<string, string>): string[] {
  try {
    loadNotifierConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigErrors);
    return (err as ConfigErrors).message.split('\n');
  }
  throw new Error('expected a config error');
}

describe('config', () => {
  it('has a default for every variable but the OneSignal app id and key', () => {
    expect(loadNotifierConfig(required)).toEqual({
      HOST: '0.0.0.0',
      PORT: 8088,
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: ['127.0.0.1:19092'],
      MONGO_URL: 'mongodb://127.0.0.1:27117',
      MONGO_DB: 'pushtech',
      REQUESTS_TOPIC: 'notify.requests',
      NOTIFIER_GROUP: 'notifier',
      ONESIGNAL_API_ROOT: 'https://api.onesignal.com',
      ...required,
      ONESIGNAL_CLIENT: 'onesignal-node',
      ONESIGNAL_AUTH_SCHEME: 'Basic',
      ONESIGNAL_TIMEOUT_MS: 10_000,
      RATE_LIMIT_PER_S: 150,
      SEND_CONCURRENCY: 16,
      QUEUE_MAX: 10_000,
      RETRY_BASE_MS: 1_000,
      RETRY_MAX_MS: 60_000,
      RETRY_MAX_ATTEMPTS: 10,
      RETRY_MAX_AGE_MS: 900_000,
      VAPID_PUBLIC_KEY: '',
      VAPID_PRIVATE_KEY: '',
      VAPID_SUBJECT: '',
      WEB_PUSH_TTL_S: 3_600,
      WEB_PUSH_URGENCY: 'normal',
      WEB_PUSH_TIMEOUT_MS: 10_000,
      USERS_TOPIC: 'users',
    });
  });

  it('Web Push: the three VAPID variables or none; a real P-256 pair; a mailto: or https: subject; the private key never echoed', () => {
    const keys = generateVapidKeys();
    const vapid = { VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey, VAPID_SUBJECT: 'mailto:ops@example.net' };
    expect(webPushEnabled(loadNotifierConfig({ ...required, ...vapid }))).toBe(true);
    expect(webPushEnabled(loadNotifierConfig(required))).toBe(false);
    expect(errorsOf({ ...required, VAPID_PUBLIC_KEY: keys.publicKey })).toEqual([
      'config: VAPID_PUBLIC_KEY needs VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT all set (or none: no Web Push); npm run vapid-keys makes them',
    ]);
    const other = generateVapidKeys().privateKey;
    const lines = errorsOf({ ...required, ...vapid, VAPID_PRIVATE_KEY: other, VAPID_SUBJECT: 'ops@example.net' });
    expect(lines).toEqual([
      'config: VAPID_SUBJECT must be a mailto: address or an https: URL (got "ops@example.net")',
      'config: VAPID_PRIVATE_KEY does not belong to VAPID_PUBLIC_KEY',
    ]);
    expect(lines.join('\n')).not.toContain(other);
    expect(errorsOf({ ...required, ...vapid, VAPID_PUBLIC_KEY: 'abc' })).toEqual(['config: VAPID_PUBLIC_KEY must be base64url of an uncompressed P-256 point (65 bytes)']);
    expect(errorsOf({ ...required, WEB_PUSH_URGENCY: 'urgent' })[0]).toMatch(/^config: WEB_PUSH_URGENCY must be one of very-low, low, normal, high/);
  });

  it('names every missing or bad variable and its rule, without echoing the key', () => {
    expect(errorsOf({ RATE_LIMIT_PER_S: '-1', ONESIGNAL_API_ROOT: 'api.onesignal.com' })).toEqual([
      'config: ONESIGNAL_API_ROOT must be a URL starting with https:// or http:// (got "api.onesignal.com")',
      'config: ONESIGNAL_APP_ID is required: a non-empty string',
      'config: ONESIGNAL_API_KEY is required: a non-empty string',
      'config: RATE_LIMIT_PER_S must be a number between 0 and 100000 (got "-1")',
    ]);
  });

  it('Key authorization needs the fetch client: onesignal-node always sends Basic', () => {
    expect(errorsOf({ ...required, ONESIGNAL_AUTH_SCHEME: 'Key' })).toEqual([
      'config: ONESIGNAL_AUTH_SCHEME must be Basic with ONESIGNAL_CLIENT=onesignal-node (it always sends "Authorization: Basic <key>"); use ONESIGNAL_CLIENT=fetch for Key (got "Key")',
    ]);
    expect(loadNotifierConfig({ ...required, ONESIGNAL_AUTH_SCHEME: 'Key', ONESIGNAL_CLIENT: 'fetch' }).ONESIGNAL_AUTH_SCHEME).toBe('Key');
    expect(errorsOf({ ...required, RETRY_BASE_MS: '5000', RETRY_MAX_MS: '1000' })).toEqual([
      'config: RETRY_MAX_MS must be at least RETRY_BASE_MS (5000) (got "1000")',
    ]);
  });

  const runIndex = (env: Record<string, string>) => spawnSync(process.execPath, [fileURLToPath(new URL('./index.ts', import.meta.url))], {
    env: { ...process.env, ...required, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });

  it('src/index.ts stops with one clear line and exit code 78 on a bad value', () => {
    const result = runIndex({ RETRY_MAX_ATTEMPTS: 'many' });
    expect(result.status).toBe(78);
    expect(result.stderr.trim()).toBe('config: RETRY_MAX_ATTEMPTS must be an integer between 1 and 1000 (got "many")');
  });

  it('src/index.ts checks the rules between variables too: one line, exit code 78', () => {
    const result = runIndex({ ONESIGNAL_AUTH_SCHEME: 'Key' });
    expect(result.status).toBe(78);
    expect(result.stderr.trim()).toBe('config: ONESIGNAL_AUTH_SCHEME must be Basic with ONESIGNAL_CLIENT=onesignal-node (it always sends "Authorization: Basic <key>"); use ONESIGNAL_CLIENT=fetch for Key (got "Key")');
  });
});
