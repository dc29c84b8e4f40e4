import Fastify from 'fastify';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, healthPlugin } from './index.ts';

async function appWith(checks: Record<string, () => Promise<unknown>>, degradedBy?: Record<string, () => Promise<unknown>>) {
  const registry = createMetricsRegistry('health-test');
  const counter = new Counter({ name: 'things_total', help: 'things', registers: [registry] });
  counter.inc(3);
  const app = Fastify();
  await app.register(healthPlugin, { checks, degradedBy, registry, checkTimeoutMs: 100 });
  return app;
}

describe('health plugin', () => {
  it('/healthz answers while dependencies are down', async () => {
    const app = await appWith({ redis: () => Promise.reject(new Error('down')) });
    const res = await app.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 when every dependency answers', async () => {
    const app = await appWith({ redis: async () => 'PONG', kafka: async () => undefined });
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { redis: 'ok', kafka: 'ok' } });
  });

  it('/readyz stays 200, degraded, when only a dependency in degradedBy fails; unready when a check fails too', async () => {
    const down = () => Promise.reject(new Error('connection refused'));
    const degraded = await (await appWith({ mongo: async () => 'ok' }, { kafka: down })).inject('/readyz');
    expect([degraded.statusCode, degraded.json()]).toEqual([200, { status: 'degraded', checks: { mongo: 'ok', kafka: 'error: connection refused' } }]);
    const unready = await (await appWith({ mongo: down }, { kafka: down })).inject('/readyz');
    expect(unready.statusCode).toBe(503);
    expect(unready.json().status).toBe('unready');
    const ready = await (await appWith({ mongo: async () => 'ok' }, { kafka: async () => 'ok' })).inject('/readyz');
    expect(ready.json()).toEqual({ status: 'ready', checks: { mongo: 'ok', kafka: 'ok' } });
  });

  it('/readyz is 503 naming the dependency that fails or hangs', async () => {
    const app = await appWith({
      redis: async () => 'PONG',
      kafka: () => Promise.reject(new Error('connection refused')),
      mongo: () => new Promise(() => {}),
    });
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'unready',
      checks: { redis: 'ok', kafka: 'error: connection refused', mongo: 'error: no answer within 100 ms' },
    });
  });

  it('/metrics serves the registry in Prometheus text format, with the service label', async () => {
    const app = await appWith({});
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('things_total{service="health-test"} 3');
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });
});
