import { Agent, request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { int, loadConfig } from '@pushtech/config';
import { createLogger } from '@pushtech/logging';
import { ApiError } from './api-error.ts';
import { defineService, serviceConfig } from './define-service.ts';

const spec = { ...serviceConfig({ port: 1 }), ANSWER: int({ default: 42 }) };
const config = loadConfig(spec, { LOG_LEVEL: 'silent' });
const logger = createLogger('test', 'silent');
const fast = { initialMs: 1, maxMs: 5, jitter: 0 };

/** A dependency that refuses `failures` times, then connects; records what happens to it. */
function flakyDependency(name: string, failures: number, events: string[]) {
  let attempts = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => { release = resolve; });
  return {
    release,
    dependency: {
      async connect() {
        attempts += 1;
        if (attempts <= failures) throw new Error(`${name} refused (attempt ${attempts})`);
        await gate;
        events.push(`connect ${name}`);
        return { name };
      },
      async check() {},
      close: () => { events.push(`close ${name}`); },
    },
  };
}

describe('defineService', () => {
  it('listens at once, unready while a dependency is away, ready once it connects and start is done', async () => {
    const events: string[] = [];
    const kafka = flakyDependency('kafka', 2, events);
    const service = defineService({
      name: 'test',
      config: spec,
      retry: fast,
      dependencies: () => ({ kafka: kafka.dependency }),
      start: (ctx, deps) => {
        events.push(`start with ${deps.kafka.name}`);
        return { answer: ctx.config.ANSWER };
      },
      routes(http, _ctx, running) {
        http.get('/answer', async () => ({ answer: running().answer }));
      },
      stop: () => { events.push('stop'); },
    });
    const running = await service.start({ config, logger, listen: false });

    const unready = await running.http.inject('/readyz');
    expect(unready.statusCode).toBe(503);
    expect(unready.json().checks.kafka).toMatch(/connecting to kafka/);
    const early = await running.http.inject('/answer');
    expect(early.statusCode).toBe(503);
    expect(early.headers['retry-after']).toBe('1');
    expect(early.json()).toMatchObject({ error: 'unavailable' });

    kafka.release();
    await running.ready;
    expect((await running.http.inject('/readyz')).json()).toEqual({ status: 'ready', checks: { kafka: 'ok', started: 'ok' } });
    expect((await running.http.inject('/answer')).json()).toEqual({ answer: 42 });

    await running.stop();
    await running.stop();
    expect(events).toEqual(['connect kafka', 'start with kafka', 'stop', 'close kafka']);
  });

  it('connects dependencies in order and closes them in reverse; a stop while connecting ends the retries', async () => {
    const events: string[] = [];
    const mongo = flakyDependency('mongo', 0, events);
    const kafka = flakyDependency('kafka', Infinity, events);
    mongo.release();
    const service = defineService({ name: 'test', config: spec, retry: fast, dependencies: () => ({ mongo: mongo.dependency, kafka: kafka.dependency }), start: () => { events.push('start'); } });
    const running = await service.start({ config, logger, listen: false });
    // The marker: mongo is connected, so the runtime is retrying kafka.
    await expect.poll(() => events).toEqual(['connect mongo']);
    await running.stop();
    await expect(running.ready).rejects.toThrow('test is stopping');
    expect(events).toEqual(['connect mongo', 'close mongo']);
  });

  it('answers a degraded dependency\'s failure with 200 degraded once started', async () => {
    let kafkaUp = true;
    const service = defineService({
      name: 'test',
      config: spec,
      dependencies: () => ({
        kafka: { connect: async () => 'k', check: async () => { if (!kafkaUp) throw new Error('broker gone'); }, degraded: true },
      }),
    });
    const running = await service.start({ config, logger, listen: false });
    await running.ready;
    kafkaUp = false;
    const reply = await running.http.inject('/readyz');
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toEqual({ status: 'degraded', checks: { started: 'ok', kafka: 'error: broker gone' } });
    await running.stop();
  });

  it('answers coded JSON errors: ApiError, bad JSON, unknown path 404, known path with another method 405 + Allow, bad URL', async () => {
    const service = defineService({
      name: 'test',
      config: spec,
      routes(http) {
        http.get('/things/:id', async () => { throw new ApiError(409, 'conflict', [{ field: 'id', rule: 'must not be taken' }]); });
        http.post('/things', async () => ({ ok: true }));
      },
    });
    const running = await service.start({ config, logger, listen: false });
    const { http } = running;

    const conflict = await http.inject('/things/1');
    expect([conflict.statusCode, conflict.json()]).toEqual([409, { error: 'conflict', errors: [{ field: 'id', rule: 'must not be taken' }] }]);

    const badJson = await http.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect([badJson.statusCode, badJson.json()]).toEqual([400, { error: 'invalid_request', errors: [{ field: 'body', rule: 'must be valid JSON' }] }]);

    const wrongType = await http.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'image/png' }, payload: 'x' });
    expect([wrongType.statusCode, wrongType.json().error]).toEqual([415, 'unsupported_media_type']);

    const nowhere = await http.inject('/nowhere');
    expect([nowhere.statusCode, nowhere.json().error]).toEqual([404, 'not_found']);

    const wrongMethod = await http.inject({ method: 'DELETE', url: '/things/7' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD');
    expect(wrongMethod.json()).toEqual({ error: 'method_not_allowed', errors: [{ field: 'method', rule: 'must be one of GET, HEAD' }] });

    const healthPost = await http.inject({ method: 'POST', url: '/healthz' });
    expect([healthPost.statusCode, healthPost.headers.allow]).toEqual([405, 'GET, HEAD']);

    const badUrl = await http.inject('/things/%E0%A4%A');
    expect([badUrl.statusCode, badUrl.json().error]).toEqual([400, 'invalid_request']);

    // Fastify's own parser would keep `%FF` as it is, and the route would look for a thing "%FF".
    for (const query of ['name=%FF', 'a=1&name=%E0%A4%A', 'name=%zz']) {
      const badQuery = await http.inject(`/things/1?${query}`);
      expect([badQuery.statusCode, badQuery.json()], query).toEqual([400, { error: 'invalid_request', errors: [{ field: 'name', rule: 'must be valid URL encoding of UTF-8 text' }] }]);
    }
    const goodQuery = await http.inject('/things/1?name=caf%C3%A9+au+lait&tag=a&tag=b');
    expect(goodQuery.statusCode).toBe(409);
    await running.stop();
  });

  it('takes Fastify options from the config; a 404 can list the routes; a catch-all OPTIONS route leaves unknown paths 404', async () => {
    const service = defineService({
      name: 'test',
      config: spec,
      http: (c) => ({ exposeHeadRoutes: false, bodyLimit: c.ANSWER }),
      errors: () => ({ notFoundListsRoutes: true }),
      routes(http) {
        http.post('/things', async () => ({ ok: true }));
        http.options('*', async (_request, reply) => reply.code(204).send());
      },
    });
    const running = await service.start({ config, logger, listen: false });
    const { http } = running;

    const tooLarge = await http.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ pad: 'x'.repeat(42) }) });
    expect([tooLarge.statusCode, tooLarge.json()]).toEqual([413, { error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 42 bytes' }] }]);

    const nowhere = await http.inject('/nowhere');
    expect([nowhere.statusCode, nowhere.json()]).toEqual([404, {
      error: 'not_found',
      errors: [{ field: 'path', rule: 'no route GET /nowhere; the routes are GET /healthz, GET /readyz, GET /metrics, POST /things' }],
    }]);
    const head = await http.inject({ method: 'HEAD', url: '/healthz' });
    expect([head.statusCode, head.headers.allow]).toEqual([405, 'GET']);
    const wrongMethod = await http.inject({ method: 'DELETE', url: '/things' });
    expect([wrongMethod.statusCode, wrongMethod.headers.allow]).toEqual([405, 'POST']);
    await running.stop();
  });

  it('listens on HOST:PORT from the config', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const { port } = free.address() as AddressInfo;
    await new Promise((resolve) => free.close(resolve));
    const service = defineService({ name: 'test', config: spec });
    const running = await service.start({ config: loadConfig(spec, { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent' }), logger });
    expect(running.url).toBe(`http://127.0.0.1:${port}`);
    expect(await (await fetch(`${running.url}/healthz`)).json()).toEqual({ status: 'ok' });
    await running.stop();
  });

  it('stop drains first: unready, still answering on new and kept-alive connections, each answer closing its connection; then the port closes', async () => {
    const service = defineService({
      name: 'test',
      config: spec,
      routes(http) {
        http.get('/slow', async () => {
          await new Promise((resolve) => setTimeout(resolve, 300));
          return { done: true };
        });
      },
    });
    const running = await service.start({ config: loadConfig(spec, { LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0' }), logger, drainMs: 400 });
    await running.ready;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string, via?: Agent) => new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      request(`${running.url}${path}`, { agent: via }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
      }).on('error', reject).end();
    });
    try {
      expect((await get('/healthz', agent)).connection).toBe('keep-alive');
      const inFlight = get('/slow');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const stopped = running.stop();
      const readyz = await get('/readyz');
      expect(readyz.status).toBe(503);
      expect(JSON.parse(readyz.body)).toMatchObject({ status: 'unready', checks: { started: 'error: stopping' } });
      // The kept-alive connection of before the stop still gets its answer, and is told to close.
      expect(await get('/healthz', agent)).toMatchObject({ status: 200, connection: 'close' });
      expect(await get('/healthz')).toMatchObject({ status: 200, connection: 'close' });
      expect(await inFlight).toMatchObject({ status: 200, connection: 'close', body: '{"done":true}' });
      await stopped;
      await expect(get('/healthz')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      agent.destroy();
      await running.stop();
    }
  });
});
