import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ConfigErrors, loadConfig } from '@pushtech/config';
import { storageConfigSpec } from './config.ts';

const SECRET = 'a-secret-of-at-least-32-characters!!';

describe('storage config', () => {
  it('has defaults for everything but JWT_SECRET', () => {
    expect(loadConfig(storageConfigSpec, { JWT_SECRET: SECRET })).toEqual({
      PORT: 8083,
      HOST: '0.0.0.0',
      KAFKA_BROKERS: ['127.0.0.1:19092'],
      MONGO_URL: 'mongodb://127.0.0.1:27117',
      MONGO_DB: 'pushtech',
      JWT_SECRET: SECRET,
      LISTINGS_TOPIC: 'listings',
      MATCHES_TOPIC: 'matches',
      USERS_TOPIC: 'users',
      PROJECTOR_GROUP: 'storage-projector',
      READ_YOUR_WRITES_TIMEOUT_MS: 5_000,
      WEB_PUSH_ENDPOINT_HOSTS: [],
      OIDC_ISSUER: undefined,
      OIDC_AUDIENCE: undefined,
      OIDC_JWKS_URL: undefined,
      LOG_LEVEL: 'info',
    });
  });

  it('requires JWT_SECRET of at least 32 characters, without echoing it', () => {
    expect(() => loadConfig(storageConfigSpec, {})).toThrow('JWT_SECRET is required: a string of at least 32 characters');
    try {
      loadConfig(storageConfigSpec, { JWT_SECRET: 'hunter2' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigErrors).message).toBe('config: JWT_SECRET must be a string of at least 32 characters (got 7 characters)');
      expect((err as ConfigErrors).message).not.toContain('hunter2');
    }
  });

  it('names every bad variable', () => {
    const env = { JWT_SECRET: SECRET, PORT: '65536', READ_YOUR_WRITES_TIMEOUT_MS: '-1', MONGO_URL: 'http://x', LOG_LEVEL: 'loud' };
    try {
      loadConfig(storageConfigSpec, env);
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigErrors).errors.map((e) => e.variable)).toEqual(['PORT', 'LOG_LEVEL', 'MONGO_URL', 'READ_YOUR_WRITES_TIMEOUT_MS']);
    }
  });

  it('src/index.ts stops with exit code 78 on OIDC_AUDIENCE without OIDC_ISSUER (both or neither)', () => {
    const result = spawnSync(process.execPath, [fileURLToPath(new URL('./index.ts', import.meta.url))], {
      env: { ...process.env, JWT_SECRET: SECRET, OIDC_AUDIENCE: 'pushtech-app' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr.trim()).toBe('config: OIDC_ISSUER is required when OIDC_AUDIENCE is set');
  });
});
