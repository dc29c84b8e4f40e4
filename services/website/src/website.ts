/**
 * The website as a service: the pages (static shells), the browser code bundled at start
 * (`assets.ts`), and the accounts (`@pushtech/accounts`: sign-up/in/out, sessions in Mongo,
 * CSRF, short-lived bearer tokens for the browser). It reads no listing itself: the browser
 * calls storage's and the imageserver's public routes on the same origin (nginx sends
 * `/listings…`, `/me/…`, `/images…` to them and everything else here), with a bearer token from
 * `POST /account/token` kept in memory. `index.ts` runs it; the tests start the same.
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accountSecuritySchemes, accountsOptionsFrom, accountsPlugin, cookieName, ensureAccountIndexes } from '@pushtech/accounts';
import { fastifyTrustProxy } from '@pushtech/config';
import { connectMongo, pingMongo, type Db, type MongoClient } from '@pushtech/mongo';
import { ApiError, defineService, healthPaths, openApiTransform, type ServiceContext } from '@pushtech/service';
import { buildAssets, type Asset, type Assets, type PageName } from './assets.ts';
import { checkWebsiteConfig, websiteConfigSpec, type WebsiteConfig } from './config.ts';
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

function pageRoutes(http: FastifyInstance, config: WebsiteConfig, assets: Assets): void {
  const headers = {
    'content-security-policy': contentSecurityPolicy(config),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'permissions-policy': 'geolocation=(self), camera=(), microphone=()',
    'cache-control': 'no-cache',
  };
  const page = (name: PageName, path: string) => {
    const html = renderPage(name, path, assets.pages[name], config);
    return (_request: FastifyRequest, reply: FastifyReply) => reply.headers(headers).type('text/html; charset=utf-8').send(html);
  };
  for (const [path, name] of Object.entries(PAGES)) http.get(path, page(name, path));
  http.get(LISTING_PAGE, page('listing', LISTING_PAGE));

  const asset = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    const file = assets.files.get(path);
    if (file === undefined) throw new ApiError(404, 'not_found', [{ field: 'path', rule: `no asset ${path}` }]);
    return sendAsset(request, reply, file);
  };
  http.get('/assets/*', asset);
  http.get('/sw.js', asset);
}

/**
 * The OpenAPI document of the website's JSON API (the `/account/*` routes, their schemas from
 * @pushtech/accounts), served at /docs/json. The pages (HTML) and assets are not in it: they carry no tags.
 */
async function jsonApiDocument(http: FastifyInstance, sessionCookie: string): Promise<void> {
  await http.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Pushtech website: JSON API',
        version: '0.1.0',
        description: 'Accounts: sign-up, sign-in, sign-out, who is signed in, and bearer tokens for storage. A session is a cookie (or a bearer JWT); every write needs the CSRF token (`GET /account/csrf`) as `x-csrf-token`, with the CSRF cookie. Every error is JSON: `{ error, errors: [{ field, rule }] }`.',
      },
      components: { securitySchemes: accountSecuritySchemes(sessionCookie) as never },
      // The runtime registers the health routes before this plugin, which so does not see them.
      paths: healthPaths({
        summary: 'Ready: MongoDB reachable',
        checks: '`ok` or `error: …` for `mongo` and `started`',
        ready: '`ready`',
        unready: '`unready`: starting, or MongoDB away',
      }) as never,
    },
    hideUntagged: true,
    transformObject: openApiTransform,
  });
  http.get('/docs/json', { schema: { hide: true } }, async () => http.swagger());
}

interface WebsiteMongo {
  client: MongoClient;
  db: Db;
}

async function connectAccountsDb({ config }: ServiceContext<WebsiteConfig>): Promise<WebsiteMongo> {
  const client = await connectMongo(config.MONGO_URL, { appName: 'website' });
  const db = client.db(config.MONGO_DB);
  await ensureAccountIndexes(db);
  return { client, db };
}

export function websiteService() {
  return defineService({
    name: 'website',
    config: websiteConfigSpec,
    checkConfig: checkWebsiteConfig,
    http: (config) => ({ trustProxy: fastifyTrustProxy(config.TRUST_PROXY) }),
    dependencies: (ctx) => ({
      mongo: { connect: () => connectAccountsDb(ctx), check: (mongo: WebsiteMongo) => pingMongo(mongo.db), close: (mongo: WebsiteMongo) => mongo.client.close() },
    }),
    start: (_ctx, { mongo }) => mongo,
    // The pages answer from the start; the accounts answer 503 `unavailable` until Mongo is connected.
    async routes(http, { config }, running) {
      const assets = await buildAssets();
      const accounts = accountsOptionsFrom(config);
      await jsonApiDocument(http, cookieName('session', accounts.cookie));
      await http.register(accountsPlugin, { db: () => running().db, ...accounts });
      pageRoutes(http, config, assets);
    },
  });
}

export const website = websiteService();
