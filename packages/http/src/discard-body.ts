import type { IncomingMessage } from 'node:http';

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
