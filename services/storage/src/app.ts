import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import { topics } from '@pushtech/contracts';
import { healthPlugin, type Check } from '@pushtech/http';
import type { Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { pingMongo, type Db } from '@pushtech/mongo';
import { createDeviceStore } from './device-store.ts';
import { answerBadUrl, setJsonErrors } from './http-errors.ts';
import { createListingStore } from './listing-store.ts';
import type { StorageMetrics } from './metrics.ts';
import type { CollectionPointer } from './projection-collections.ts';
import type { AppliedSignal } from './read-your-writes.ts';
import { deviceRoutes } from './routes/devices.ts';
import { listingRoutes } from './routes/listings.ts';

export interface StorageDeps {
  db: Db;
  pointer: CollectionPointer;
  producer: Producer;
  logger: Logger;
  registry: Registry;
  metrics: StorageMetrics;
  /** Wakes read-your-writes waiters when the projector of this process applies a batch. */
  signal: AppliedSignal;
  jwtSecret: string;
  listingsTopic: string;
  /** Where device events go (default `users`). */
  usersTopic?: string;
  readYourWritesTimeoutMs: number;
  /**
   * Dependencies whose loss stops writes but not reads (Kafka's, from whoever owns the client):
   * /readyz reports them and stays 200 (`degraded`). Mongo's loss makes it unready.
   */
  degradedBy?: Record<string, Check>;
}

/** The storage API, not listening yet: `index.ts` listens, tests use `inject()`. */
export async function buildApp(deps: StorageDeps) {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: answerBadUrl,
  });
  // Route schemas document the API (OpenAPI); zod checks the input in the handlers, and answers are sent as they are.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  setJsonErrors(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Pushtech storage',
        version: '0.1.0',
        description: 'Listings (offers and searches), their matches, and users\' devices for push notifications. Writes are events on Kafka `listings` and `users`; reads come from the MongoDB projection. Writes and `/me/…` need `Authorization: Bearer <JWT>` (HS256, `sub` = user id). Every error is JSON: `{ error, errors: [{ field, rule }] }`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthPlugin, { checks: { mongo: () => pingMongo(deps.db) }, degradedBy: deps.degradedBy, registry: deps.registry });
  await app.register(listingRoutes, {
    store: createListingStore(deps.pointer),
    jwtSecret: deps.jwtSecret,
    commands: {
      producer: deps.producer,
      listingsTopic: deps.listingsTopic,
      signal: deps.signal,
      readYourWritesTimeoutMs: deps.readYourWritesTimeoutMs,
      metrics: deps.metrics,
      logger: deps.logger,
    },
  });
  await app.register(deviceRoutes, {
    store: createDeviceStore(deps.pointer),
    jwtSecret: deps.jwtSecret,
    commands: {
      producer: deps.producer,
      usersTopic: deps.usersTopic ?? topics.users.name,
      signal: deps.signal,
      readYourWritesTimeoutMs: deps.readYourWritesTimeoutMs,
      metrics: deps.metrics,
      logger: deps.logger,
    },
  });
  return app;
}

export type StorageApp = Awaited<ReturnType<typeof buildApp>>;
