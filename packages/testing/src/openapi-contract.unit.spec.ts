// The contract walker against a small HTTP server (no stack): it passes when the server does
// what its document says, and fails, naming the request and the seed, on each kind of disagreement.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkOpenApiContract, type OpenApiDocument, type Schema } from './openapi-contract.ts';

const refusal = {
  type: 'object',
  required: ['error', 'errors'],
  properties: { error: { type: 'string' }, errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, rule: { type: 'string' } } } } },
};
const thing = { type: 'object', additionalProperties: false, required: ['id', 'size'], properties: { id: { type: 'string' }, size: { type: 'integer', minimum: 1, maximum: 10 } } };
const json = (schema: Schema, description = 'it') => ({ description, content: { 'application/json': { schema } } });

const document: OpenApiDocument = {
  openapi: '3.0.3',
  paths: {
    '/things/{id}': {
      get: {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 20 } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
        ],
        responses: { 200: json(thing), 400: json(refusal) },
      },
      delete: { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 20 } }], responses: { 204: { description: 'gone' }, 400: json(refusal) } },
    },
    '/things': {
      post: {
        requestBody: { required: true, content: { 'application/json': { schema: thing } } },
        responses: { 201: json(thing), 400: json(refusal), 415: json(refusal) },
      },
    },
  },
};

/** A server that does what `document` says; `change` makes it wrong in one way. */
type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

function send(res: ServerResponse, status: number, body?: unknown, type = 'application/json; charset=utf-8') {
  if (body === undefined) return res.writeHead(status).end();
  res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
}

const refuse = (res: ServerResponse, field: string, status = 400) => send(res, status, { error: 'invalid_request', errors: [{ field, rule: 'breaks a rule' }] });

/** Whether `text` is valid percent-encoding of UTF-8. */
function decodes(text: string): boolean {
  try { return typeof decodeURIComponent(text) === 'string'; } catch { return false; }
}

const correct: Handler = (req, body, res) => {
  const url = req.url ?? '';
  const [path = '', query = ''] = url.split('?');
  const methods: Record<string, string> = { '/things': 'POST', thing: 'GET, HEAD, DELETE' };
  const key = path === '/things' ? '/things' : path.startsWith('/things/') ? 'thing' : undefined;
  if (key === undefined) return send(res, 404, { error: 'not_found', errors: [{ field: 'path', rule: 'no route' }] });
  if (!methods[key]!.split(', ').includes(req.method ?? '')) {
    res.setHeader('allow', methods[key]!);
    return send(res, 405, { error: 'method_not_allowed', errors: [{ field: 'method', rule: 'no' }] });
  }
  if (key === 'thing') {
    const raw = path.slice('/things/'.length);
    if (!decodes(raw) || !decodes(query)) return refuse(res, 'path');
    const id = decodeURIComponent(raw);
    if ([...id].length > 20 || id === '') return refuse(res, 'id');
    const params = new URLSearchParams(query);
    for (const name of params.keys()) if (name !== 'limit') return refuse(res, name);
    const limit = params.get('limit');
    if (limit !== null && !(/^\d+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 100)) return refuse(res, 'limit');
    return req.method === 'DELETE' ? send(res, 204) : send(res, 200, { id, size: 3 });
  }
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return refuse(res, 'content-type', 415);
  let thingIn: { id?: unknown; size?: unknown };
  try {
    thingIn = JSON.parse(body);
  } catch {
    return refuse(res, 'body');
  }
  const ok = typeof thingIn === 'object' && thingIn !== null && !Array.isArray(thingIn)
    && Object.keys(thingIn).every((k) => k === 'id' || k === 'size')
    && typeof thingIn.id === 'string' && Number.isInteger(thingIn.size) && (thingIn.size as number) >= 1 && (thingIn.size as number) <= 10;
  return ok ? send(res, 201, thingIn) : refuse(res, 'body');
};

let server: Server | undefined;

async function serve(handler: Handler): Promise<string> {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

const walk = async (handler: Handler) => checkOpenApiContract({ baseUrl: await serve(handler), document, numRuns: 30, seed: 7 });

const isPost = (req: IncomingMessage) => req.method === 'POST' && req.url === '/things';
const isGet = (req: IncomingMessage) => req.method === 'GET' && (req.url ?? '').startsWith('/things/');

/** The same server, except for requests `when` picks, which `wrong` answers. */
const except = (when: (req: IncomingMessage, body: string) => boolean, wrong: Handler): Handler => (req, body, res) => (when(req, body) ? wrong(req, body, res) : correct(req, body, res));

describe('checkOpenApiContract', () => {
  it('passes a server that does what its document says, and reports what it saw', async () => {
    const report = await walk(correct);
    expect([...report.keys()]).toEqual(['GET /things/{id}', 'DELETE /things/{id}', 'POST /things']);
    expect(report.get('POST /things')!.get(201)).toBeGreaterThan(0);
    expect(report.get('POST /things')!.get(400)).toBeGreaterThan(0);
  });

  it('fails on a 5xx, naming the seed and the request', async () => {
    await expect(walk(except(isPost, (_, __, res) => send(res, 500, { error: 'internal_error' }))))
      .rejects.toThrow(/POST \/things .*OPENAPI_CONTRACT_SEED=7[\s\S]*answered 500[\s\S]*POST \/things/);
  });

  it('fails on an undocumented status', async () => {
    await expect(walk(except((req) => isPost(req) && !(req.headers['content-type'] ?? '').startsWith('application/json'), (_, __, res) => refuse(res, 'body', 422))))
      .rejects.toThrow(/answered 422, which the operation does not document/);
  });

  it('fails on a body that does not match its schema', async () => {
    await expect(walk(except(isGet, (req, _, res) => send(res, 200, { id: req.url, size: 3, secret: 'x' }))))
      .rejects.toThrow(/the 200 body does not match its schema/);
  });

  it('fails on a wrong content type, and on a 204 with a body', async () => {
    await expect(walk(except(isGet, (_, __, res) => send(res, 200, { id: 'a', size: 3 }, 'text/html'))))
      .rejects.toThrow(/answered 200 as text\/html/);
    await expect(walk(except((req) => req.method === 'DELETE' && (req.url ?? '').startsWith('/things/'), (_, __, res) => send(res, 204, {}))))
      .rejects.toThrow(/answered 204 with a body or a content type/);
  });

  it('fails when a request the document calls invalid is accepted', async () => {
    // Takes any size: the document says 1 to 10.
    await expect(walk(except((req, body) => isPost(req) && /"size":/.test(body) && !/"unknown_/.test(body), (_, __, res) => send(res, 201, { id: 'x', size: 3 }))))
      .rejects.toThrow(/accepted \(201\) a request the document calls invalid/);
  });

  it('fails when a request the document calls valid is refused for a rule it does not state', async () => {
    // Refuses ids longer than 5: the document says up to 20.
    await expect(walk(except((req) => isGet(req) && decodes(req.url ?? '') && [...decodeURIComponent((req.url ?? '').split('?')[0]!.slice(8))].length > 5, (_, __, res) => refuse(res, 'id'))))
      .rejects.toThrow(/refused \(400\) a request the document calls valid, for id/);
  });

  it('fails when a path that is not valid URL encoding is not refused', async () => {
    await expect(walk(except((req) => !decodes((req.url ?? '').split('?')[0]!) && isGet(req), (_, __, res) => send(res, 200, { id: 'x', size: 3 }))))
      .rejects.toThrow(/accepted \(200\) a request the document calls invalid \(path parameter id is not valid URL encoding or UTF-8\)/);
  });

  it('fails when a method the path does not have is not a 405 with Allow', async () => {
    await expect(walk(except((req) => req.method === 'PUT', (_, __, res) => send(res, 404, { error: 'not_found', errors: [] }))))
      .rejects.toThrow(/PUT \/things\/\{id\}: answered 404, not 405/);
  });
});

describe('checkOpenApiContract with a cookie session and a CSRF header', () => {
  const secured: OpenApiDocument = {
    openapi: '3.0.3',
    security: [{ session: [] }],
    paths: { '/me': { post: { responses: { 200: json(thing), 401: json(refusal), 403: json(refusal) } } } },
  };
  // A write needs the CSRF header; who you are is the session cookie (or nothing: 401).
  const site: Handler = (req, _, res) => {
    if ((req.url ?? '').split('?')[0] !== '/me') return send(res, 404, { error: 'not_found', errors: [{ field: 'path', rule: 'no route' }] });
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, 405, { error: 'method_not_allowed', errors: [{ field: 'method', rule: 'no' }] });
    }
    if (req.headers['x-csrf-token'] !== 'token') return refuse(res, 'x-csrf-token', 403);
    if (!(req.headers.cookie ?? '').includes('session=alice')) return refuse(res, 'session', 401);
    return send(res, 200, { id: 'alice', size: 1 });
  };
  const walkSite = async (options: { headers?: Record<string, string>; credentials?: Record<string, string> }) => checkOpenApiContract({
    baseUrl: await serve(site), document: secured, numRuns: 20, seed: 7,
    headers: options.headers && (() => options.headers!), credentials: options.credentials && (() => options.credentials!),
  });

  it('sends `headers` with every request and the credentials only with the good ones: no or bad credentials are a 401', async () => {
    const report = await walkSite({ headers: { 'x-csrf-token': 'token' }, credentials: { cookie: 'session=alice' } });
    expect(report.get('POST /me')!.get(200)).toBeGreaterThan(0);
    expect(report.get('POST /me')!.get(401)).toBeGreaterThan(0);
  });

  it('without `headers`, every request is refused: the valid ones never succeed', async () => {
    const report = await walkSite({ credentials: { cookie: 'session=alice' } });
    expect([...report.get('POST /me')!.keys()]).toEqual([403]);
  });
});
