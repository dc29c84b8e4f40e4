/**
 * The HTTP side of storage: Fastify options, the OpenAPI document and the routes
 * (storage.ts gives them to defineService). The routes reach Mongo and Kafka through
 * `running()`, which answers 503 `unavailable` until storage has started.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { JsonErrorOptions } from '@pushtech/service';
import type { DeviceCommandDeps } from './device-commands.ts';
import type { CommandDeps } from './listing-commands.ts';
import { deviceRoutes } from './routes/devices.ts';
import { listingRoutes } from './routes/listings.ts';

/** What the routes use once storage has started: the stores and what commands need. */
export interface StorageHandlers {
  listings: CommandDeps;
  devices: DeviceCommandDeps;
}

export const storageHttp = { bodyLimit: 64 * 1024, routerOptions: { maxParamLength: 200 }, logRequests: true };

/** A Mongo or Kafka driver error that reaches the handler: 503 `unavailable`, nothing was changed. */
export const storageErrors: JsonErrorOptions = { dependencyErrors: { Mongo: 'mongo', Kafka: 'kafka' } };

/**
 * The runtime registers these before the routes below, so the OpenAPI plugin does not see
 * them: described here (a new object each time: the plugin adds the routes to it).
 */
function healthPaths() {
  const get = (summary: string, responses: Record<string, string>) => ({
    get: { summary, tags: ['health'], responses: Object.fromEntries(Object.entries(responses).map(([code, description]) => [code, { description }])) },
  });
  return {
    '/healthz': get('Alive', { 200: '`{"status":"ok"}`' }),
    '/readyz': get('Ready: Mongo reachable and the projector started; Kafka reported beside them', {
      200: '`ready`, or `degraded` while Kafka is away (reads go on, writes answer 503); `checks` names each dependency',
      503: '`unready`: starting (waiting for Mongo or Kafka), or Mongo away',
    }),
    '/metrics': get('Prometheus metrics', { 200: 'text exposition format' }),
  };
}

export async function storageRoutes(app: FastifyInstance, options: { jwtSecret: string; webPushHosts?: string[]; running: () => StorageHandlers }): Promise<void> {
  const { jwtSecret, running } = options;
  // Route schemas document the API (OpenAPI); zod checks the input in the handlers, and answers are sent as they are.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Pushtech storage',
        version: '0.1.0',
        description: 'Listings (offers and searches), their matches, and users\' devices for push notifications. Writes are events on Kafka `listings` and `users`; reads come from the MongoDB projection. Writes and `/me/…` need `Authorization: Bearer <JWT>` (HS256, `sub` = user id). Every error is JSON: `{ error, errors: [{ field, rule }] }`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      paths: healthPaths(),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(listingRoutes, { jwtSecret, deps: () => running().listings });
  await app.register(deviceRoutes, { jwtSecret, webPushHosts: options.webPushHosts ?? [], deps: () => running().devices });
}
