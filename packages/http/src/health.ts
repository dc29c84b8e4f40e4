import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** A dependency check resolves when the dependency answers, and throws otherwise. */
export type Check = () => Promise<unknown>;

export interface HealthOptions {
  /** One check per dependency, by name: `{ redis: () => pingRedis(redis) }`. */
  checks: Record<string, Check>;
  /**
   * Dependencies without which only part of the service works (storage's reads go on without
   * Kafka): reported beside `checks`, but a failure makes /readyz say `degraded` and stay 200,
   * so the pod stays in rotation for what it can still do.
   */
  degradedBy?: Record<string, Check>;
  registry: Registry;
  /** A check slower than this counts as failed. */
  checkTimeoutMs?: number;
}

/** A registry with Node's default metrics and a `service` label on every series. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

async function runCheck(check: Check, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz` (the process is alive), `/readyz` (every dependency answers), `/metrics` (Prometheus). */
async function health(app: FastifyInstance, options: HealthOptions): Promise<void> {
  const timeoutMs = options.checkTimeoutMs ?? 2_000;

  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const run = async (checks: Record<string, Check>) =>
      Object.fromEntries(await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const)));
    const [required, optional] = await Promise.all([run(options.checks), run(options.degradedBy ?? {})]);
    const allOk = (results: Record<string, string>) => Object.values(results).every((r) => r === 'ok');
    const status = !allOk(required) ? 'unready' : allOk(optional) ? 'ready' : 'degraded';
    return reply.code(status === 'unready' ? 503 : 200).send({ status, checks: { ...required, ...optional } });
  });

  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    return reply.type(options.registry.contentType).send(await options.registry.metrics());
  });
}

export const healthPlugin = fp(health, { name: 'pushtech-health', fastify: '5.x' });

/**
 * `create`, made once per registry: a service's errors, dependencies and routes each ask for its
 * series and get the same ones (prom-client refuses a second series of the same name).
 */
export function perRegistry<M>(create: (registry: Registry) => M): (registry: Registry) => M {
  const made = new WeakMap<Registry, M>();
  return (registry) => {
    let metrics = made.get(registry);
    if (metrics === undefined) {
      metrics = create(registry);
      made.set(registry, metrics);
    }
    return metrics;
  };
}
