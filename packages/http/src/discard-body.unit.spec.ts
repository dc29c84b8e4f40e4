import { connect } from 'node:net';
import Fastify, { type FastifyError } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { discardRefusedBody } from './index.ts';

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** An app whose POST / takes at most 12 MiB; its error handler discards a refused body, or not. */
async function appRefusingBodies(discard: boolean): Promise<number> {
  const app = Fastify();
  apps.push(app);
  app.post('/', { bodyLimit: 12 * 1024 * 1024 }, async () => ({ ok: true }));
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    if (discard) await discardRefusedBody(err, request);
    return reply.code(413).send({ error: 'body_too_large' });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as { port: number }).port;
}

/** Sends a POST with a `bytes` body as a proxy would (all of it, whatever the answer); what came of it. */
function post(port: number, bytes: number): Promise<{ sentAll: boolean; answer: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let error: string | undefined;
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code));
    socket.on('close', () => resolve({ sentAll: sent === bytes, answer, ...(error ? { error } : {}) }));
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${bytes}\r\n\r\n`);
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const writeMore = () => {
      while (sent < bytes && !socket.destroyed) {
        const size = Math.min(chunk.length, bytes - sent);
        const ok = socket.write(chunk.subarray(0, size));
        sent += size;
        if (!ok) return void socket.once('drain', writeMore);
      }
      if (sent >= bytes) socket.end();
    };
    writeMore();
  });
}

describe('discardRefusedBody', () => {
  // 40 MiB: over the route's limit, within what it discards (4 × the limit), and more than
  // loopback socket buffers hold, so an unread rest cannot hide in them.
  const BODY = 40 * 1024 * 1024;

  it('without it, a client still sending a refused body is reset (what nginx turns into a 502)', async () => {
    const result = await post(await appRefusingBodies(false), BODY);
    expect(result.error).toMatch(/ECONNRESET|EPIPE/);
  });

  it('with it, the whole body is read and the 413 arrives', async () => {
    const result = await post(await appRefusingBodies(true), BODY);
    expect(result.error).toBeUndefined();
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
  });
});
