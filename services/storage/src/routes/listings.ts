/**
 * `/listings` routes. Writes need a bearer token (its user: our token's `sub`,
 * or `oidc:<sub>` for the OIDC issuer's when configured); reads are public. Inputs are checked with the zod schemas of
 * listing-input.ts; the same schemas make the OpenAPI document.
 */
import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { newId } from '@pushtech/events';
import type { Listing } from '@pushtech/listings';
import { authenticate, type OidcVerifier } from '@pushtech/auth';
import { ApiError, parseInput } from '@pushtech/service';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { runCommand, type CommandDeps, type CommandResult } from '../listing-commands.ts';
import { ListingRejected, type ListingCommand } from '../listing-decider.ts';
import {
  changeListingBody,
  createListingBody,
  listingIdParams,
  nearbyQuery,
  ownerQuery,
} from '../listing-input.ts';
import { findNearby } from '../nearby.ts';
import { json, openApiSchema, refused } from '../openapi.ts';
import * as out from './response-schemas.ts';

export interface ListingRoutesOptions {
  jwtSecret: string;
  /** The OIDC issuer's verifier, when one is configured. */
  oidc?: OidcVerifier | undefined;
  /** The store and what commands need; throws (503) while storage is starting. */
  deps: () => CommandDeps;
}

const security = [{ bearerAuth: [] }];
const acceptedDoc = json(out.accepted, 'Recorded on Kafka, not yet visible after READ_YOUR_WRITES_TIMEOUT_MS: `GET /listings/{id}` shows it once it is projected');
const ownerCursor = z.strictObject({ id: z.string().min(1) });

export async function listingRoutes(app: FastifyInstance, options: ListingRoutesOptions): Promise<void> {
  const { deps, jwtSecret, oidc } = options;
  const store = () => deps().store;

  async function command(command: ListingCommand): Promise<CommandResult> {
    try {
      return await runCommand(deps(), command);
    } catch (err) {
      if (!(err instanceof ListingRejected)) throw err;
      switch (err.code) {
        case 'not_found':
          throw new ApiError(404, 'not_found', [{ field: 'id', rule: err.message }]);
        case 'forbidden':
          throw new ApiError(403, 'forbidden', [{ field: 'id', rule: 'must be a listing of the token\'s user' }]);
        case 'closed':
          throw new ApiError(409, 'listing_closed', [{ field: 'id', rule: err.message }]);
        case 'already_exists':
          throw new ApiError(409, 'conflict', [{ field: 'id', rule: err.message }]);
      }
    }
  }

  /** 200/201 with the listing, 202 when the projection was too slow, 409 when a concurrent write won. */
  function answer(reply: FastifyReply, result: CommandResult, created = false): FastifyReply {
    switch (result.outcome) {
      case 'applied':
      case 'unchanged':
        if (created) reply.code(201).header('location', `/listings/${result.listing.id}`);
        return reply.send(result.listing);
      case 'accepted':
        if (created) reply.header('location', `/listings/${result.id}`);
        return reply.code(202).send({
          id: result.id,
          version: result.version,
          applied: false,
          message: `recorded, not yet visible: GET /listings/${result.id} shows version ${result.version} once it is projected`,
        });
      case 'conflict':
        throw new ApiError(409, 'conflict', [{
          field: 'version',
          rule: `listing ${result.id} was changed concurrently (version ${result.version} was taken by another write): read it again and retry`,
        }]);
    }
  }

  app.post('/listings', {
    schema: {
      summary: 'Create an offer or a search (owner: the token\'s user)',
      tags: ['listings'],
      security,
      body: openApiSchema(createListingBody),
      response: {
        201: json(out.listing, 'Created and visible', ['Location']),
        202: json(out.accepted, 'Recorded on Kafka, not yet visible after READ_YOUR_WRITES_TIMEOUT_MS: `GET` the `Location` later', ['Location']),
        ...refused(400, 401, 413, 415, 503),
      },
    },
  }, async (request, reply) => {
    const userId = await authenticate(request, reply, jwtSecret, oidc);
    if (userId === undefined) return reply;
    const body = parseInput(createListingBody, request.body, 'body');
    const result = await command({ type: 'createListing', data: { id: newId(), ownerId: userId, listing: body } });
    return answer(reply, result, true);
  });

  app.get('/listings', {
    schema: {
      summary: 'Listings of an owner, newest first',
      tags: ['listings'],
      querystring: openApiSchema(ownerQuery),
      response: { 200: json(out.ownerPage, 'A page of listings, newest first'), ...refused(400, 503) },
    },
  }, async (request) => {
    const query = parseInput(ownerQuery, request.query, 'query');
    const beforeId = query.cursor === undefined ? undefined : decodeCursor(query.cursor, ownerCursor).id;
    const found = await store().byOwner({ ownerId: query.ownerId, status: query.status, beforeId, limit: query.limit + 1 });
    const items = found.slice(0, query.limit);
    const last = items[items.length - 1];
    return { items, nextCursor: found.length > query.limit && last !== undefined ? encodeCursor({ id: last.id }) : null };
  });

  app.get('/listings/nearby', {
    schema: {
      summary: 'Offers near a place, or searches near it (what people nearby look for), nearest first',
      tags: ['listings'],
      querystring: openApiSchema(nearbyQuery),
      response: { 200: json(out.nearbyPage, 'A page, nearest first (ties by id)'), ...refused(400, 503) },
    },
  }, async (request) => findNearby(store(), parseInput(nearbyQuery, request.query, 'query')));

  const idSchema = { params: openApiSchema(listingIdParams) };

  async function existing(request: FastifyRequest): Promise<Listing> {
    const { id } = parseInput(listingIdParams, request.params, 'params');
    const listing = await store().get(id);
    if (listing === null) throw new ApiError(404, 'not_found', [{ field: 'id', rule: `listing ${id} does not exist` }]);
    return listing;
  }

  app.get('/listings/:id', {
    schema: {
      summary: 'One listing (also paused, closed and expired ones)',
      tags: ['listings'],
      ...idSchema,
      response: { 200: json(out.listing, 'The listing, whatever its status: a closed one stays readable'), ...refused(400, 404, 503) },
    },
  }, async (request) => existing(request));

  app.patch('/listings/:id', {
    schema: {
      summary: 'Change a listing of yours (fields, location, status)',
      tags: ['listings'],
      security,
      ...idSchema,
      body: openApiSchema(changeListingBody),
      response: { 200: json(out.listing, 'The listing after the change (or as it was, when nothing changed)'), 202: acceptedDoc, ...refused(400, 401, 403, 404, 409, 413, 415, 503) },
    },
  }, async (request, reply) => {
    const userId = await authenticate(request, reply, jwtSecret, oidc);
    if (userId === undefined) return reply;
    const { id } = parseInput(listingIdParams, request.params, 'params');
    const changes = parseInput(changeListingBody, request.body, 'body');
    return answer(reply, await command({ type: 'changeListing', data: { id, userId, changes } }));
  });

  app.delete('/listings/:id', {
    schema: {
      summary: 'Close a listing of yours (final: it never matches again; it stays readable)',
      description: 'Closing does not delete: `GET /listings/{id}` keeps answering 200 with `status: closed` (not 404), and the '
        + 'owner\'s listings list it under `status=closed`. A closed listing cannot change (PATCH answers 409 `listing_closed`); '
        + 'closing it again is a 200 that changes nothing.',
      tags: ['listings'],
      security,
      ...idSchema,
      response: { 200: json(out.listing, 'The listing, `status: closed`'), 202: acceptedDoc, ...refused(400, 401, 403, 404, 409, 413, 415, 503) },
    },
  }, async (request, reply) => {
    const userId = await authenticate(request, reply, jwtSecret, oidc);
    if (userId === undefined) return reply;
    const { id } = parseInput(listingIdParams, request.params, 'params');
    return answer(reply, await command({ type: 'closeListing', data: { id, userId } }));
  });

  app.get('/listings/:id/matches', {
    schema: {
      summary: 'Current matches of a listing, nearest first',
      tags: ['listings'],
      ...idSchema,
      response: { 200: json(out.matchesPage, 'The other side of every current match, nearest first'), ...refused(400, 404, 503) },
    },
  }, async (request) => {
    const listing = await existing(request);
    const matches = await store().currentMatches(listing.id);
    const otherIds = matches.map((m) => (m.searchId === listing.id ? m.offerId : m.searchId));
    const others = new Map((await store().byIds(otherIds)).map((l) => [l.id, l]));
    const items = matches.map((m) => {
      const isSearch = m.searchId === listing.id;
      const otherId = isSearch ? m.offerId : m.searchId;
      const other = others.get(otherId);
      return {
        pair: m.pair,
        listingId: otherId,
        kind: isSearch ? 'offer' : 'search',
        ...(other === undefined ? {} : { title: other.title }),
        ownerId: isSearch ? m.offerOwnerId : m.searchOwnerId,
        distanceM: m.distanceM,
        decidedAt: m.decidedAt,
      };
    });
    items.sort((a, b) => a.distanceM - b.distanceM || (a.listingId < b.listingId ? -1 : 1));
    return { items };
  });
}
