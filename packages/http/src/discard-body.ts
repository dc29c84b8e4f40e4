import type { IncomingMessage } from 'node:http';
import type { FastifyError, FastifyRequest } from 'fastify';

/**
 * Reads and drops what is left of a request's body, up to `maxBytes` or `timeoutMs`. Answering
 * before the body is read (a 413) makes Fastify close the connection, and closing a socket with
 * unread data resets it: nginx, still sending the body, turns that reset into a 502 instead of
 * passing the 413 on.
 */
export function discardRequestBody(request: IncomingMessage, maxBytes: number, timeoutMs = 10_000): Promise<void> {
  if (request.readableEnded || request.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      request.off('data', onData).off('end', done).off('error', done).off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) done();
    };
    const timer = setTimeout(done, timeoutMs);
    request.on('data', onData).once('end', done).once('error', done).once('close', done);
    request.resume();
  });
}

const MIB = 2 ** 20;

/**
 * For an error handler: when `err` is Fastify's "body too large", reads the rest of the body
 * (up to 4 × the route's limit, at least 4 MiB: more than nginx lets through) before the 413 is sent.
 */
export async function discardRefusedBody(err: FastifyError, request: FastifyRequest): Promise<void> {
  if (err.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') return;
  await discardRequestBody(request.raw, Math.max(4 * (request.routeOptions.bodyLimit ?? MIB), 4 * MIB));
}
