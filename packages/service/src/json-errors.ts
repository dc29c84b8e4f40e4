import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { parse as parseQueryString } from 'fast-querystring';
import { discardRefusedBody } from '@pushtech/http';
import { ApiError, UnavailableError, type FieldError } from './api-error.ts';

export interface JsonErrorOptions {
  /** Errors of the service's own kinds, answered before the common ones; return undefined to pass. */
  translate?: (err: unknown, request: FastifyRequest) => ApiError | undefined;
  /** Told of every 4xx answered by the common handler (a service counts its refusals here). */
  onRefused?: (request: FastifyRequest, error: ApiError) => void;
  /** Told of every 503 (the dependency or the reason is in `error.code`/message). */
  onUnavailable?: (request: FastifyRequest, error: ApiError) => void;
  /** Error names whose prefix marks a dependency's failure: `{ Mongo: 'mongo', Kafka: 'kafka' }` → 503. */
  dependencyErrors?: Record<string, string>;
  /** Named in a 415's rule (default `application/json`). */
  acceptedContentTypes?: string;
  /** Seconds in `Retry-After` of a 503 for a dependency (default 1). */
  retryAfterS?: number;
  /** A 404's rule lists the routes there are (for a public API whose clients guess paths, like the tracker's). */
  notFoundListsRoutes?: boolean;
}

/** Fastify's own body-reading errors, as the common codes. */
function bodyError(err: FastifyError, request: FastifyRequest, acceptedTypes: string): ApiError | undefined {
  const invalid = (field: string, rule: string) => new ApiError(400, 'invalid_request', [{ field, rule }]);
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return invalid('body', 'must be valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalid('body', 'must not be empty when content-type is application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalid('content-length', 'must match the body length');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', [{ field: 'content-type', rule: `must be ${acceptedTypes}` }]);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'body_too_large', [{ field: 'body', rule: `must be at most ${request.routeOptions.bodyLimit ?? '?'} bytes` }]);
    default:
      return undefined;
  }
}

function dependencyOf(err: unknown, prefixes: Record<string, string>): string | undefined {
  if (err instanceof UnavailableError) return err.dependency;
  const name = (err as { name?: unknown } | null)?.name;
  if (typeof name !== 'string') return undefined;
  return Object.entries(prefixes).find(([prefix]) => name.startsWith(prefix))?.[1];
}

/** Fastify's `frameworkErrors`: errors raised before routing (a malformed URL, a path parameter over the router's length) skip the error handler. */
export function answerBadUrl(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  reply.code(400).send({ error: 'invalid_request', errors: [{ field: 'path', rule: `must be a valid URL: ${error.message}` }] });
}

const MALFORMED_QUERY = Symbol('malformed query parameter');

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Fastify's query parser (fast-querystring), which keeps a parameter that is not valid
 * percent-encoding or UTF-8 as it is (`?ownerId=%FF` would look for the owner "%FF"); this one
 * marks the first such parameter, and `setJsonErrors` answers the request 400 naming it.
 */
export function parseQuery(query: string): Record<string, unknown> {
  const parsed = parseQueryString(query) as Record<string, unknown>;
  if (!decodes(query)) {
    const broken = query.split('&').find((pair) => !decodes(pair)) ?? '';
    const [key = ''] = broken.split('=');
    Object.defineProperty(parsed, MALFORMED_QUERY, { value: decodes(key) ? decodeURIComponent(key.replace(/\+/g, ' ')) : 'query' });
  }
  return parsed;
}

export function sendApiError(reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.retryAfterS !== undefined) reply.header('retry-after', String(error.retryAfterS));
  const body = error.status >= 500 ? { error: error.code, message: error.message } : { error: error.code, errors: error.errors };
  return reply.code(error.status).send(body);
}

/**
 * Every answer that is not a success is JSON with a code: a 404 names the path, a 405 sends
 * `Allow`, body errors are 400/413/415, dependency failures 503 with `Retry-After`, the rest 500
 * (logged). Route handlers throw `ApiError`.
 */
export function setJsonErrors(app: FastifyInstance, options: JsonErrorOptions = {}): void {
  const dependencyErrors = options.dependencyErrors ?? {};
  const retryAfterS = options.retryAfterS ?? 1;
  const routes = trackRoutes(app);

  app.addHook('onRequest', async (request) => {
    const malformed = (request.query as Record<symbol, string | undefined>)[MALFORMED_QUERY];
    if (malformed !== undefined) throw new ApiError(400, 'invalid_request', [{ field: malformed, rule: 'must be valid URL encoding of UTF-8 text' }]);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const allowed = routes.allowedMethods(path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendApiError(reply, new ApiError(405, 'method_not_allowed', [{ field: 'method', rule: `must be one of ${allowed.join(', ')}` }]));
    }
    const rule = `no route ${request.method} ${path}${options.notFoundListsRoutes ? `; the routes are ${routes.list().join(', ')}` : ''}`;
    return sendApiError(reply, new ApiError(404, 'not_found', [{ field: 'path', rule }]));
  });

  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    // nginx, still sending a body refused as too large, would answer 502 instead of the 413.
    await discardRefusedBody(err, request);
    const known = options.translate?.(err, request) ?? (err instanceof ApiError ? err : undefined) ?? bodyError(err, request, options.acceptedContentTypes ?? 'application/json');
    if (known) {
      if (known.status === 503) options.onUnavailable?.(request, known);
      else if (known.status < 500) options.onRefused?.(request, known);
      else request.log.warn({ err: known.message }, 'request failed');
      return sendApiError(reply, known);
    }
    const dependency = dependencyOf(err, dependencyErrors);
    if (dependency !== undefined) {
      request.log.warn({ err: err.message, dependency }, 'answered 503: dependency unavailable');
      const unavailable = new ApiError(503, 'unavailable', [], { message: `${dependency} is not available: nothing was changed, retry later`, retryAfterS });
      options.onUnavailable?.(request, unavailable);
      return sendApiError(reply, unavailable);
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const refused = new ApiError(status, 'invalid_request', [{ field: 'request', rule: err.message }]);
      options.onRefused?.(request, refused);
      return sendApiError(reply, refused);
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal_error', message: 'the request failed; it was logged' });
  });
}

/**
 * Fastify answers 404 for a path it knows under another method; a router of our own, fed by
 * `onRoute`, tells which methods the path has so the answer can be a 405 with `Allow`.
 * A catch-all route (`OPTIONS *` of @fastify/cors) makes no path known: an unknown path stays a 404.
 */
function trackRoutes(app: FastifyInstance): { allowedMethods(path: string): string[]; list(): string[] } {
  const router = FindMyWay({ ignoreTrailingSlash: false });
  const methods = new Set<HTTPMethod>();
  const urls = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (route.url === '*') return;
    for (const method of [route.method].flat() as HTTPMethod[]) {
      if (router.hasRoute(method, route.url)) continue;
      router.on(method, route.url, () => {});
      methods.add(method);
      urls.set(route.url, (urls.get(route.url) ?? new Set()).add(method));
    }
  });
  return {
    allowedMethods: (path) => [...methods].filter((method) => router.find(method, path) !== null).sort(),
    // `GET /healthz`, not `GET /healthz, HEAD /healthz`: a GET route has its HEAD.
    list: () => [...urls].flatMap(([url, on]) => [...on].filter((m) => !(m === 'HEAD' && on.has('GET'))).map((m) => `${m} ${url}`)),
  };
}

export type { FieldError };
