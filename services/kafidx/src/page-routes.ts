/** The page: two static files read once at start, no build step. */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { AccessCheck } from './access-token.ts';

const publicDir = new URL('../public/', import.meta.url);
const page = readFileSync(new URL('index.html', publicDir), 'utf8');
const script = readFileSync(new URL('kafidx.js', publicDir), 'utf8');

// The page builds every row with textContent: message data never becomes markup.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  // The token may be in the address (?token=): never send it on.
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export async function pageRoutes(app: FastifyInstance, options: { access: AccessCheck }): Promise<void> {
  app.get('/', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    if (typeof query.token === 'string') {
      // Opened from a link with ?token=: keep it in a cookie (for fetch and the WebSocket) and drop it from the address.
      return reply.code(303).header('set-cookie', options.access.cookie()).headers(PAGE_HEADERS).header('location', '/').send();
    }
    return reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(page);
  });
  app.get('/kafidx.js', async (_request, reply) => reply.headers(PAGE_HEADERS).type('text/javascript; charset=utf-8').send(script));
}
