import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigErrors, loadConfig } from '@pushtech/config';
import { configSpec } from './config.ts';

describe('config', () => {
  it('has a default for every variable', () => {
    const config = loadConfig(configSpec, {});
    expect(config).toMatchObject({
      KAFKA_BROKERS: ['127.0.0.1:19092'],
      REDIS_URL: 'redis://127.0.0.1:16379',
      REDIS_STREAM: 'pushtech:events',
      CONSUMER_GROUP: 'kafkastore',
      BATCH_MAX_EVENTS: 1000,
      BATCH_MAX_WAIT_MS: 50,
      CLAIM_IDLE_MS: 30_000,
      EVENTS_TOPIC: 'events',
      DLQ_TOPIC: 'events.dlq',
      PORT: 8082,
      LOG_LEVEL: 'info',
    });
    expect(config.CONSUMER_NAME).not.toBe('');
  });

  it('names every bad variable and its rule', () => {
    let error: unknown;
    try {
      loadConfig(configSpec, { BATCH_MAX_EVENTS: '0', REDIS_URL: 'http://x', KAFKA_BROKERS: 'nohost' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigErrors);
    expect((error as ConfigErrors).errors.map((e) => e.variable).sort()).toEqual(['BATCH_MAX_EVENTS', 'KAFKA_BROKERS', 'REDIS_URL']);
  });

  it('src/index.ts stops with one clear line and exit code 78 on a bad value', () => {
    const result = spawnSync(process.execPath, [fileURLToPath(new URL('./index.ts', import.meta.url))], {
      env: { ...process.env, BATCH_MAX_WAIT_MS: 'soon' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr.trim()).toBe('config: BATCH_MAX_WAIT_MS must be an integer between 1 and 60000 (got "soon")');
  });
});
