/**
 * The HTTP side of storage: Fastify options, the OpenAPI document and the routes
 * (storage.ts gives them to defineService). The routes reach Mongo and Kafka through
 * `running()`, which answers 503 `unavailable` until storage has started.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { OIDC_DEPENDENCY_ERRORS, type OidcVerifier } from '@pushtech/auth';
import { openApiTransform, type JsonErrorOptions } from '@pushtech/service';
import type { DeviceCommandDeps } from './device-commands.ts';
import type { CommandDeps } from './listing-commands.ts';
import { deviceRoutes } from './routes/devices.ts';
import { LIMITS } from './listing-input.ts';
import { listingRoutes } from './routes/listings.ts';
import { healthPaths } from './openapi.ts';

/** What the routes use once storage has started: the stores and what commands need. */
export interface StorageHandlers {
  listings: CommandDeps;
  devices: DeviceCommandDeps;
}

/**
 * A path parameter is up to 128 characters (`id`, `subscriptionId`); percent-encoded, a character is up to 12
 * (4 UTF-8 bytes): the router must take them all, or a valid id would be refused as a bad URL.
 */
export const storageHttp = { bodyLimit: 64 * 1024, routerOptions: { maxParamLength: LIMITS.idMaxChars * 12 }, logRequests: true };

/** A Mongo or Kafka driver error, or an OIDC issuer out of reach, that reaches the handler: 503 `unavailable`, nothing was changed. */
export const storageErrors: JsonErrorOptions = { dependencyErrors: { Mongo: 'mongo', Kafka: 'kafka', ...OIDC_DEPENDENCY_ERRORS } };

export interface StorageRoutesOptions {
  jwtSecret: string;
  /** The OIDC issuer's verifier, when one is configured: its tokens are taken beside ours. */
  oidc?: OidcVerifier | undefined;
  webPushHosts?: string[];
  running: () => StorageHandlers;
}

export async function storageRoutes(app: FastifyInstance, options: StorageRoutesOptions): Promise<void> {
  const { jwtSecret, oidc, running } = options;
  // Route schemas document the API (OpenAPI, openapi.ts); zod checks the input in the handlers, and answers are sent as
  // they are (the contract test checks them against the document).
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // JSON only: without this, Fastify would take text/plain bodies as strings (a 400 instead of the 415 the document says).
  app.removeContentTypeParser('text/plain');

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Pushtech storage',
        version: '0.1.0',
        description: 'Listings (offers and searches), their matches, and users\' devices for push notifications. Writes are events on Kafka `listings` and `users`; reads come from the MongoDB projection. Writes and `/me/…` need `Authorization: Bearer <JWT>`: ours (HS256, `sub` = user id), or, when OIDC_ISSUER is configured, one of that OpenID Connect issuer (RS256 or ES256, for OIDC_AUDIENCE; user id `oidc:<sub>`). Every error is JSON: `{ error, errors: [{ field, rule }] }`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      // The runtime registers the health routes before this plugin, which so does not see them.
      paths: healthPaths() as never,
    },
    transformObject: openApiTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(listingRoutes, { jwtSecret, oidc, deps: () => running().listings });
  await app.register(deviceRoutes, { jwtSecret, oidc, webPushHosts: options.webPushHosts ?? [], deps: () => running().devices });
}
