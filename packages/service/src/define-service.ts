/**
 * The one way to be a service. A definition names its config, its dependencies, its routes and
 * how it starts and stops; the runtime owns the rest:
 *
 * - config from the environment, validated at start (a bad value: one line, exit 78);
 * - the pino logger, the Prometheus registry, Fastify with `/healthz`, `/readyz`, `/metrics`
 *   and coded JSON errors, listening on `HOST`:`PORT`;
 * - dependencies connected in order, each retried with back-off until it answers: the service
 *   listens at once and is unready (503 `starting`) until they are connected and `start` is done;
 * - stop (SIGTERM/SIGINT in `main`, `stop()` in tests), ordered and idempotent: first a drain of
 *   `STOP_DRAIN_MS` (unready, still answering, every answer closing its keep-alive connection), then
 *   the HTTP server (answers what is in flight), the definition's `stop`, the dependencies in reverse.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Server } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Registry } from 'prom-client';
import { int, loadConfigOrExit, oneOf, string, type ConfigOf, type CrossCheck, type Reader, type Spec } from '@pushtech/config';
import { createMetricsRegistry, healthPlugin, type Check } from '@pushtech/http';
import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger, logLevels, type Logger, type LogLevel } from '@pushtech/logging';
import { UnavailableError } from './api-error.ts';
import { retry, sleep, type BackoffPolicy } from '@pushtech/backoff';
import { answerBadUrl, parseQuery, setJsonErrors, type JsonErrorOptions } from './json-errors.ts';

/** The variables every service reads: where it listens and how much it logs. */
export function serviceConfig(defaults: { port: number }): { HOST: Reader<string>; PORT: Reader<number>; LOG_LEVEL: Reader<LogLevel> } {
  return {
    HOST: string({ default: '0.0.0.0' }),
    // 0 picks a free port (tests, several instances on one machine); the URL it got is logged.
    PORT: int({ default: defaults.port, min: 0, max: 65_535 }),
    LOG_LEVEL: oneOf(logLevels, { default: 'info' }),
  };
}

/**
 * What `main` reads besides the service's own config, for the runtime itself (tests that `start`
 * a service in-process pass `drainMs` instead, or nothing: no drain).
 */
export const runtimeConfig = {
  // Longer than the load balancer takes to see /readyz fail and than its idle keep-alive (nginx.conf: 4 s).
  STOP_DRAIN_MS: int({ default: 0, min: 0, max: 120_000 }),
};

type BaseConfig = { HOST: string; PORT: number; LOG_LEVEL: LogLevel };

export type HttpOptions = Omit<FastifyServerOptions, 'logger' | 'loggerInstance'> & { logRequests?: boolean };

export interface ServiceContext<C> {
  readonly name: string;
  readonly config: C;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly http: FastifyInstance;
  /** Aborted when the service stops: loops and retries end on it. */
  readonly signal: AbortSignal;
}

export interface Dependency<T> {
  /** Connects (and prepares: topics, indexes); retried with back-off until it resolves or the service stops. */
  connect(signal: AbortSignal): Promise<T>;
  /** Asked by `/readyz` once connected; throws when the dependency does not answer. */
  check?(value: T): Promise<unknown>;
  close?(value: T): Promise<unknown> | unknown;
  /**
   * Without it the service still does part of its work (storage reads on without Kafka): once
   * connected, a failing check makes `/readyz` say `degraded` and stay 200.
   */
  degraded?: boolean;
}

export type Dependencies<D> = { [K in keyof D]: Dependency<D[K]> };

/** Write `dependencies`, then `start`, then `routes`: TypeScript infers the types in that order. */
export interface ServiceDefinition<S extends Spec, D extends Record<string, unknown>, R> {
  name: string;
  /** The variables the service reads; spread `serviceConfig({ port })` into it. */
  config: S;
  /** Rules between variables, checked at start like the variables themselves (one line each, exit 78). */
  checkConfig?: CrossCheck<ConfigOf<S>>;
  /** Fastify options other than the logger (body limit, trust proxy, router options, …), or a function of the config giving them. */
  http?: HttpOptions | ((config: ConfigOf<S>) => HttpOptions);
  /** The common JSON errors, with the service's own kinds and counters. */
  errors?: (ctx: ServiceContext<ConfigOf<S>>) => JsonErrorOptions;
  /** Connected in the order given. */
  dependencies?: (ctx: ServiceContext<ConfigOf<S>>) => Dependencies<D>;
  /**
   * Registers the routes before the server listens. `running()` returns what `start` returned,
   * and throws a 503 `unavailable` ("starting") until then: call it inside handlers.
   */
  routes?: (http: FastifyInstance, ctx: ServiceContext<ConfigOf<S>>, running: () => R) => Promise<void> | void;
  /** Runs once every dependency is connected; the service is ready when it resolves. */
  start?: (ctx: ServiceContext<ConfigOf<S>>, deps: D) => Promise<R> | R;
  /** Undoes `start`: drains its work. Dependencies are closed after it. */
  stop?: (started: R, ctx: ServiceContext<ConfigOf<S>>) => Promise<unknown> | unknown;
  /** More `/readyz` checks; `running()` throws until `start` is done, which fails the check. */
  checks?: (ctx: ServiceContext<ConfigOf<S>>, running: () => R) => Record<string, Check>;
  /** Back-off between connection attempts (default 250 ms doubling to 30 s). */
  retry?: BackoffPolicy;
}

export interface StartOptions<C> {
  /** The config as loaded (tests build it with `loadConfig(spec, env)`). */
  config: C;
  logger?: Logger;
  registry?: Registry;
  /** Listen on `HOST`:`PORT` (default true); tests that only `inject()` pass false. */
  listen?: boolean;
  /**
   * How long `stop()` drains before closing HTTP (`STOP_DRAIN_MS` in `main`; default 0): `/readyz`
   * answers 503 `stopping` and every answer closes its keep-alive connection, while requests are
   * still served, so a load balancer moves away before the port closes.
   */
  drainMs?: number;
}

export interface RunningService<C, R> {
  readonly ctx: ServiceContext<C>;
  readonly http: FastifyInstance;
  /** `http://host:port` once listening. */
  readonly url: string | undefined;
  /** What `start` returned, once the dependencies are connected and `start` is done. */
  readonly ready: Promise<R>;
  /** Ordered, idempotent: the drain (`STOP_DRAIN_MS`), HTTP, the definition's `stop`, the dependencies in reverse. */
  stop(): Promise<void>;
}

export interface Service<S extends Spec, R> {
  readonly name: string;
  readonly configSpec: S;
  start(options: StartOptions<ConfigOf<S>>): Promise<RunningService<ConfigOf<S>, R>>;
  /** For `index.ts`: config from the environment, listen, stop on SIGTERM/SIGINT. */
  main(): Promise<RunningService<ConfigOf<S>, R>>;
}

/**
 * A request's id, on its log lines (`requestId`) and answered as `X-Request-Id`: the one nginx sent
 * (its `$request_id`, also on its access log line), or a new one.
 */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** After the drain: how long connections accepted just before the port closed get to send their request. */
const LINGER_MS = 1_000;

const DEFAULT_RETRY: BackoffPolicy = { initialMs: 250, maxMs: 30_000 };

export function defineService<S extends Spec, D extends Record<string, unknown> = Record<string, never>, R = void>(
  definition: ServiceDefinition<S, D, R>,
): Service<S, R> {
  type C = ConfigOf<S>;

  async function start(options: StartOptions<C>): Promise<RunningService<C, R>> {
    const config = options.config as C & BaseConfig;
    const logger = options.logger ?? createLogger(definition.name, config.LOG_LEVEL);
    const registry = options.registry ?? createMetricsRegistry(definition.name);
    const { logRequests = false, ...fastifyOptions } = (typeof definition.http === 'function' ? definition.http(config) : definition.http) ?? {};
    const http = Fastify({
      frameworkErrors: answerBadUrl,
      genReqId: requestId,
      ...fastifyOptions,
      routerOptions: { querystringParser: parseQuery, ...fastifyOptions.routerOptions },
      loggerInstance: logger as FastifyBaseLogger,
      logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: !logRequests }),
    });
    const stopping = new AbortController();
    // Set when stop begins: /readyz fails and each answer closes its connection, so that a proxy
    // stops sending here and keeps no idle connection that the close below would cut under it.
    let draining = false;
    http.addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id);
      if (draining) reply.header('connection', 'close');
    });
    const ctx: ServiceContext<C> = { name: definition.name, config, logger, registry, http, signal: stopping.signal };

    const dependencies = (definition.dependencies?.(ctx) ?? {}) as Dependencies<D>;
    const connected: Partial<D> = {};
    let startup = 'waiting for its dependencies';
    let started: { value: R } | undefined;

    const dependencyCheck = (name: keyof D & string) => async () => {
      if (!(name in connected)) throw new Error(startup);
      await dependencies[name].check?.(connected[name] as D[typeof name]);
    };
    const names = Object.keys(dependencies) as (keyof D & string)[];
    const required = Object.fromEntries(names.filter((n) => !dependencies[n].degraded).map((n) => [n, dependencyCheck(n)]));
    const degradedBy = Object.fromEntries(names.filter((n) => dependencies[n].degraded).map((n) => [n, dependencyCheck(n)]));
    const running = (): R => {
      if (!started) throw new UnavailableError(definition.name, `starting (${startup})`);
      return started.value;
    };
    // First, so that it sees every route (for a 405's `Allow`).
    setJsonErrors(http, definition.errors?.(ctx));
    await http.register(healthPlugin, {
      registry,
      checks: {
        ...required,
        started: async () => {
          if (draining) throw new Error('stopping');
          if (!started) throw new Error(startup);
        },
        ...definition.checks?.(ctx, running),
      },
      degradedBy,
    });
    await definition.routes?.(http, ctx, running);

    const ready = (async () => {
      for (const name of names) {
        startup = `connecting to ${name}`;
        connected[name] = await retry(() => dependencies[name].connect(stopping.signal), {
          policy: definition.retry ?? DEFAULT_RETRY,
          signal: stopping.signal,
          onFailure: (err, failures, delayMs) => {
            const why = err instanceof Error ? err.message : String(err);
            startup = `connecting to ${name}: attempt ${failures} failed (${why})`;
            logger.warn({ dependency: name, attempt: failures, retryInMs: delayMs, err: why }, 'dependency not reachable yet: retrying');
          },
        });
        logger.info({ dependency: name }, 'dependency connected');
      }
      startup = 'starting';
      stopping.signal.throwIfAborted();
      const value = (await definition.start?.(ctx, connected as D)) as R;
      started = { value };
      logger.info('ready');
      return value;
    })();
    // A stop before the service was ready rejects `ready` with the abort; that is not a failure.
    ready.catch((err) => {
      if (!stopping.signal.aborted) logger.error({ err }, 'start failed');
    });

    let url: string | undefined;
    if (options.listen !== false) {
      url = await http.listen({ host: config.HOST, port: config.PORT });
      logger.info({ url }, 'listening');
    }

    let stopped: Promise<void> | undefined;
    return {
      ctx,
      http,
      get url() {
        return url;
      },
      ready,
      stop() {
        stopped ??= (async () => {
          draining = true;
          if (options.drainMs) {
            logger.info({ drainMs: options.drainMs }, 'draining: unready, closing keep-alive connections');
            await sleep(options.drainMs);
            if (http.server.listening) {
              // Stop accepting (a proxy sends a refused connection's request elsewhere) but, unlike
              // http.close(), leave the connections just accepted open until their requests are in
              // and answered: closed unread, a proxy could not tell whether the request was taken.
              Server.prototype.close.call(http.server);
              await sleep(Math.min(LINGER_MS, options.drainMs));
            }
          }
          stopping.abort(new Error(`${definition.name} is stopping`));
          await http.close();
          await ready.then(
            (value) => definition.stop?.(value, ctx),
            () => undefined,
          );
          for (const name of [...names].reverse()) {
            if (name in connected) await dependencies[name].close?.(connected[name] as D[typeof name]);
          }
        })();
        return stopped;
      },
    };
  }

  return {
    name: definition.name,
    configSpec: definition.config,
    start,
    async main() {
      const config = loadConfigOrExit(definition.config, process.env, definition.checkConfig);
      const { STOP_DRAIN_MS } = loadConfigOrExit(runtimeConfig, process.env);
      const logger = createLogger(definition.name, (config as C & BaseConfig).LOG_LEVEL);
      const service = await start({ config, logger, drainMs: STOP_DRAIN_MS });
      service.ready.catch((err: unknown) => {
        if (service.ctx.signal.aborted) return;
        logger.fatal({ err }, 'could not start: exiting');
        process.exit(1);
      });
      // The drain comes on top of the time the rest of the stop may take.
      shutdownOnSignals(logger, [() => service.stop()], 30_000 + STOP_DRAIN_MS);
      return service;
    },
  };
}
