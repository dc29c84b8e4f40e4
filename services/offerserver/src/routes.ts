/**
 * `/sources`: the operators' API. Every route needs `Authorization: Bearer <JWT>` (HS256, the
 * JWT_SECRET shared with storage) whose `sub` is one of ADMIN_USER_IDS (`npm run token -w
 * services/storage -- admin` makes one). Bodies are checked with the zod schemas of
 * source-input.ts: a broken rule is a 400 naming the field and the rule.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authenticate } from '@pushtech/auth';
import { newId } from '@pushtech/events';
import { ApiError, healthPaths, json, openApiSchema, openApiTransform, parseInput } from '@pushtech/service';
import * as out from './response-schemas.ts';
import { refused } from './response-schemas.ts';
import { changeSourceBody, createSourceBody, sourceIdParams } from './source-input.ts';
import type { SourceDocument, SourceStore } from './source-store.ts';

export interface SourceRoutesDeps {
  sources: SourceStore;
  /** Closes the source's listings, then deletes it; returns how many listings it closed. */
  retire(source: SourceDocument): Promise<number>;
  /** The scheduler's clock (epoch ms). */
  now(): number;
}

export interface SourceRoutesOptions {
  jwtSecret: string;
  adminUserIds: string[];
  deps: () => SourceRoutesDeps;
}

/** A source as the API shows it: its settings and its state (with the next due time). */
export function sourceView(doc: SourceDocument) {
  const { _id, nextDueAt, state, ...settings } = doc;
  const { etag: _etag, lastModified: _lastModified, ...visible } = state;
  return { id: _id, ...settings, state: { ...visible, nextDueAt } };
}

const listQuery = z.strictObject({
  limit: z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.int({ error: 'must be an integer between 1 and 100' }).min(1, 'must be an integer between 1 and 100').max(100, 'must be an integer between 1 and 100')).default(50),
  cursor: z.string().max(100, 'must be the nextCursor of a previous page').optional(),
});

const security = [{ bearerAuth: [] }];
/** A route's schema: what the document says of it (@fastify/swagger); its input is checked by zod in the handler. */
const doc = (summary: string, extra: Record<string, unknown>, response: Record<string, unknown>) => ({
  schema: { summary, tags: ['sources'], security, ...extra, response: { ...response, ...refused(400, 401, 403, 503) } },
});
const idParams = { params: openApiSchema(sourceIdParams) };

export async function sourceRoutes(app: FastifyInstance, options: SourceRoutesOptions): Promise<void> {
  const { deps } = options;
  // Route schemas document the API (OpenAPI); zod checks the input in the handlers, and answers are sent as they are.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Pushtech offer server',
        version: '0.1.0',
        description: 'Sources of imported offers (RSS/Atom/JSON Feed, Lemmy communities, mapped JSON) and their state. Every route needs `Authorization: Bearer <JWT>` (HS256, `sub` one of ADMIN_USER_IDS). Errors are JSON: `{ error, errors: [{ field, rule }] }`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      // The runtime registers the health routes before this plugin, which so does not see them.
      paths: healthPaths({
        summary: 'Ready: MongoDB and Kafka reachable, and the import started',
        checks: '`ok` or `error: …` for each dependency (`mongo`, `kafka`) and `started`',
        ready: '`ready`',
        unready: '`unready`: starting, or MongoDB or Kafka away',
      }) as never,
    },
    transformObject: openApiTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  async function admin(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const userId = await authenticate(request, reply, options.jwtSecret);
    if (userId === undefined) return false;
    if (!options.adminUserIds.includes(userId)) throw new ApiError(403, 'forbidden', [{ field: 'authorization', rule: 'must be the token of an operator (ADMIN_USER_IDS)' }]);
    return true;
  }

  async function existing(request: FastifyRequest): Promise<SourceDocument> {
    const { id } = parseInput(sourceIdParams, request.params, 'params');
    const source = await deps().sources.get(id);
    if (source === null) throw new ApiError(404, 'not_found', [{ field: 'id', rule: `source ${id} does not exist` }]);
    return source;
  }

  app.post('/sources', doc('Register a source', { body: openApiSchema(createSourceBody) }, { 201: json(out.source, 'The source, due at once', ['Location']), ...refused(413, 415) }), async (request, reply) => {
    if (!(await admin(request, reply))) return reply;
    const body = parseInput(createSourceBody, request.body, 'body');
    const created = await deps().sources.insert(newId(), body, new Date(deps().now()));
    return reply.code(201).header('location', `/sources/${created._id}`).send(sourceView(created));
  });

  app.get('/sources', doc('Sources by id, with their state', { querystring: openApiSchema(listQuery) }, { 200: json(out.sourcesPage, 'A page of sources, by id') }), async (request, reply) => {
    if (!(await admin(request, reply))) return reply;
    const query = parseInput(listQuery, request.query, 'query');
    const found = await deps().sources.list(query.limit + 1, query.cursor);
    const items = found.slice(0, query.limit);
    return { items: items.map(sourceView), nextCursor: found.length > query.limit ? items[items.length - 1]!._id : null };
  });

  app.get('/sources/:id', doc('One source and its state (last fetch, last success, next due, errors, item counts)', idParams, { 200: json(out.source, 'The source'), ...refused(404) }), async (request, reply) => {
    if (!(await admin(request, reply))) return reply;
    return sourceView(await existing(request));
  });

  app.patch('/sources/:id', doc('Change a source; enabling it (or another URL) makes it due at once and clears `gone`', { ...idParams, body: openApiSchema(changeSourceBody) }, { 200: json(out.source, 'The source after the change'), ...refused(404, 413, 415) }), async (request, reply) => {
    if (!(await admin(request, reply))) return reply;
    const source = await existing(request);
    const changes = parseInput(changeSourceBody, request.body, 'body');
    if (changes.mapping !== undefined && source.kind !== 'json') throw new ApiError(400, 'invalid_request', [{ field: 'mapping', rule: 'is only for sources of kind json' }]);
    const now = new Date(deps().now());
    const next: SourceDocument = { ...source, state: { ...source.state }, updatedAt: now };
    for (const [field, value] of Object.entries(changes)) {
      if (value === null) delete (next as unknown as Record<string, unknown>)[field];
      else if (value !== undefined) (next as unknown as Record<string, unknown>)[field] = value;
    }
    if (changes.url !== undefined && changes.url !== source.url) {
      Object.assign(next.state, { etag: null, lastModified: null });
    }
    if (!next.enabled) next.nextDueAt = null;
    else if (changes.enabled === true || changes.url !== undefined || next.nextDueAt === null) {
      // Enabled again, or another URL: a fresh start (a gone source is tried again).
      Object.assign(next.state, { gone: false, goneCount: 0, consecutiveErrors: 0 });
      next.nextDueAt = now;
    }
    await deps().sources.replace(source, next);
    return sourceView(next);
  });

  app.delete('/sources/:id', doc('Delete a source and close its listings', idParams, { 200: json(out.deleted, 'Deleted: its listings are closed'), ...refused(404) }), async (request, reply) => {
    if (!(await admin(request, reply))) return reply;
    const source = await existing(request);
    const closedListings = await deps().retire(source);
    return { id: source._id, deleted: true, closedListings };
  });
}
