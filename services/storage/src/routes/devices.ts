/**
 * `/me/devices` routes: the devices (OneSignal subscriptions) of the token's
 * user, which the notify bridge pushes to. Every route needs a bearer token;
 * the user is its `sub` (`oidc:<sub>` for the OIDC issuer's). Inputs are
 * checked with the zod schemas of device-input.ts; the same schemas make the
 * OpenAPI document.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { authenticate, type OidcVerifier } from '@pushtech/auth';
import { ApiError, parseInput } from '@pushtech/service';
import { runDeviceCommand, type DeviceCommandDeps, type DeviceCommandResult } from '../device-commands.ts';
import { toDeviceView } from '../device-document.ts';
import { deviceParams, registerDeviceBody, registerDeviceDocumented } from '../device-input.ts';
import { json, noContent, openApiSchema, refused } from '../openapi.ts';
import * as out from './response-schemas.ts';

export interface DeviceRoutesOptions {
  jwtSecret: string;
  /** The OIDC issuer's verifier, when one is configured. */
  oidc?: OidcVerifier | undefined;
  /** WEB_PUSH_ENDPOINT_HOSTS: the hosts (and subdomains) a Web Push endpoint may be on; empty: any. */
  webPushHosts: string[];
  /** The store and what commands need; throws (503) while storage is starting. */
  deps: () => DeviceCommandDeps;
}

const security = [{ bearerAuth: [] }];
const acceptedDoc = json(out.deviceAccepted, 'Recorded on Kafka, not yet visible after READ_YOUR_WRITES_TIMEOUT_MS: read GET /me/devices later');

export async function deviceRoutes(app: FastifyInstance, options: DeviceRoutesOptions): Promise<void> {
  const { deps, jwtSecret, oidc, webPushHosts } = options;

  /** The notifier POSTs to the endpoint: with a host list, only to the push services named there. */
  function checkEndpointHost(endpoint: string): void {
    if (webPushHosts.length === 0) return;
    const host = new URL(endpoint).hostname;
    if (webPushHosts.some((h) => host === h || host.endsWith(`.${h}`))) return;
    throw new ApiError(400, 'invalid_request', [{ field: 'webPush.endpoint', rule: `must be on a push service host: ${webPushHosts.join(', ')}` }]);
  }

  function accepted(reply: FastifyReply, subscriptionId: string): FastifyReply {
    return reply.code(202).send({
      subscriptionId,
      applied: false,
      message: `recorded, not yet visible: GET /me/devices shows it once it is projected`,
    });
  }

  function conflict(subscriptionId: string): never {
    throw new ApiError(409, 'conflict', [{
      field: 'subscriptionId',
      rule: `subscription ${subscriptionId} was registered concurrently by another request, which won: read GET /me/devices and retry if needed`,
    }]);
  }

  app.post('/me/devices', {
    schema: {
      summary: 'Register a device of yours (a OneSignal subscription) for push notifications; a subscription of another user moves to you',
      tags: ['devices'],
      security,
      body: openApiSchema(registerDeviceDocumented),
      response: {
        200: json(out.device, 'Already registered so: nothing changed'),
        201: json(out.device, 'Registered and visible', ['Location']),
        202: acceptedDoc,
        ...refused(400, 401, 413, 415, 503),
        409: json(out.refusal(['conflict']), 'Another request registered the same subscription at the same time, for another user, and won: read your devices again'),
      },
    },
  }, async (request, reply) => {
    const userId = await authenticate(request, reply, jwtSecret, oidc);
    if (userId === undefined) return reply;
    const body = parseInput(registerDeviceBody, request.body, 'body');
    if (body.webPush) checkEndpointHost(body.webPush.endpoint);
    const result: DeviceCommandResult = await runDeviceCommand(deps(), { type: 'registerDevice', data: { userId, ...body } });
    switch (result.outcome) {
      case 'applied':
        return reply.code(201).header('location', `/me/devices/${encodeURIComponent(body.subscriptionId)}`).send(result.device);
      case 'unchanged':
        return reply.send(result.device);
      case 'accepted':
        return accepted(reply, body.subscriptionId);
      case 'conflict':
        return conflict(body.subscriptionId);
    }
  });

  app.get('/me/devices', {
    schema: {
      summary: 'Your devices, newest registration first',
      tags: ['devices'],
      security,
      response: { 200: json(out.devicesPage, 'The devices that get your push notifications'), ...refused(400, 401, 503) },
    },
  }, async (request, reply) => {
    const userId = await authenticate(request, reply, jwtSecret, oidc);
    if (userId === undefined) return reply;
    return { items: (await deps().store.byUser(userId)).map(toDeviceView) };
  });

  app.delete('/me/devices/:subscriptionId', {
    schema: {
      summary: 'Remove a device of yours: it gets no more push notifications (removing one you do not have changes nothing)',
      tags: ['devices'],
      security,
      params: openApiSchema(deviceParams),
      response: {
        204: noContent('Removed, or it was not yours (any more)'),
        202: acceptedDoc,
        ...refused(400, 401, 413, 415, 503),
      },
    },
  }, async (request, reply) => {
    const userId = await authenticate(request, reply, jwtSecret, oidc);
    if (userId === undefined) return reply;
    const { subscriptionId } = parseInput(deviceParams, request.params, 'params');
    const result = await runDeviceCommand(deps(), { type: 'removeDevice', data: { userId, subscriptionId } });
    if (result.outcome === 'accepted') return accepted(reply, subscriptionId);
    return reply.code(204).send();
  });
}
