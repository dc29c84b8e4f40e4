/**
 * The website as a service: the pages (static shells), the browser code bundled at start
 * (`assets.ts`), and the routes the pages write through for a signed-in user. It reads nothing
 * itself: the browser reads storage's and the imageserver's public routes on the same origin
 * (nginx sends `/listings…`, `/images…` to them and `/` here). `index.ts` runs it; the tests
 * start the same.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, defineService, type ServiceContext } from '@pushtech/service';
import { buildAssets, type Asset, type Assets, type PageName } from './assets.ts';
import { websiteConfigSpec, type WebsiteConfig } from './config.ts';
import { contentSecurityPolicy, renderPage } from './pages.ts';

/** Paths of the pages (none under `/listings`, `/images` or `/me/`: nginx sends those to the API). */
const PAGES: Record<string, PageName> = {
  '/': 'home',
  '/my': 'my',
  '/signin': 'account',
  '/signup': 'account',
};
const LISTING_PAGE = '/l/:id';

/** br, then gzip, then none, as the request accepts. */
function encodingFor(request: FastifyRequest): 'br' | 'gzip' | 'identity' {
  const accepted = String(request.headers['accept-encoding'] ?? '');
  if (/\bbr\b/.test(accepted)) return 'br';
  if (/\bgzip\b/.test(accepted)) return 'gzip';
  return 'identity';
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, file: Asset) {
  reply.header('etag', file.etag).header('vary', 'accept-encoding').header('x-content-type-options', 'nosniff')
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const encoding = encodingFor(request);
  if (encoding !== 'identity') reply.header('content-encoding', encoding);
  return reply.type(file.type).send(file[encoding]);
}

function pageRoutes(http: FastifyInstance, { config }: ServiceContext<WebsiteConfig>, running: () => Assets): void {
  const headers = {
    'content-security-policy': contentSecurityPolicy(config),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'permissions-policy': 'geolocation=(self), camera=(), microphone=()',
    'cache-control': 'no-cache',
  };
  const html = new Map<string, string>();
  const page = (name: PageName, path: string) => (_request: FastifyRequest, reply: FastifyReply) => {
    const key = `${name}:${path}`;
    let text = html.get(key);
    if (text === undefined) {
      text = renderPage(name, path, running().pages[name], config);
      html.set(key, text);
    }
    return reply.headers(headers).type('text/html; charset=utf-8').send(text);
  };
  for (const [path, name] of Object.entries(PAGES)) http.get(path, page(name, path));
  http.get(LISTING_PAGE, page('listing', LISTING_PAGE));

  const asset = (request: FastifyRequest, reply: FastifyReply) => {
    const file = running().files.get(request.url.split('?')[0]!);
    if (file === undefined) throw new ApiError(404, 'not_found', [{ field: 'path', rule: `no asset ${request.url.split('?')[0]}` }]);
    return sendAsset(request, reply, file);
  };
  http.get('/assets/*', asset);
  http.get('/sw.js', asset);
}

export function websiteService() {
  return defineService({
    name: 'website',
    config: websiteConfigSpec,
    start: () => buildAssets(),
    routes(http, ctx, running) {
      pageRoutes(http, ctx, running);
    },
  });
}

export const website = websiteService();
