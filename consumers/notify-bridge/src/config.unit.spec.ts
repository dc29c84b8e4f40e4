import { describe, expect, it } from 'vitest';
import { type ConfigErrors, loadConfig } from '@pushtech/config';
import { bridgeConfigSpec } from './config.ts';

describe('notify bridge config', () => {
  it('has a default for everything', () => {
    expect(loadConfig(bridgeConfigSpec, {})).toEqual({
      HOST: '0.0.0.0',
      PORT: 8090,
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: ['127.0.0.1:19092'],
      MONGO_URL: 'mongodb://127.0.0.1:27117',
      MONGO_DB: 'pushtech',
      MATCHES_TOPIC: 'matches',
      USERS_TOPIC: 'users',
      PROJECTOR_GROUP: 'storage-projector',
      REQUESTS_TOPIC: 'notify.requests',
      RESPONSE_TOPIC: 'notify.results.bridge',
      BRIDGE_GROUP: 'notify-bridge',
      PAIR_WINDOW_S: 3_600,
      USER_MAX_PER_HOUR: 20,
      MATCH_MAX_AGE_S: 600,
    });
  });

  it('names every bad variable', () => {
    try {
      loadConfig(bridgeConfigSpec, { PAIR_WINDOW_S: '-1', USER_MAX_PER_HOUR: '0', MONGO_URL: 'redis://x', PORT: 'http' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigErrors).errors.map((e) => e.variable)).toEqual(['PORT', 'MONGO_URL', 'PAIR_WINDOW_S', 'USER_MAX_PER_HOUR']);
    }
  });
});
