/**
 * For the tests: a Fastify app with the accounts plugin and two routes of a "site" that use it,
 * and a client that keeps cookies like a browser (light-my-request's inject, no socket).
 */
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { setJsonErrors } from '@pushtech/service';
import { accountsPlugin, type AccountsOptions } from './plugin.ts';
import { csrfTokenOf, requireSession } from './session.ts';

export const TEST_SECRET = 'a-test-secret-of-at-least-32-characters!';
export const FAST_SCRYPT = { log2N: 10, r: 8, p: 1 };

export async function testApp(options: Partial<AccountsOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify({ trustProxy: true });
  setJsonErrors(app, { dependencyErrors: { Mongo: 'mongo' } });
  await app.register(accountsPlugin, { db: () => undefined, jwtSecret: TEST_SECRET, cookie: { secure: false }, scrypt: FAST_SCRYPT, sweepIntervalMs: 0, ...options });
  app.get('/site/whoami', async (request) => {
    const session = await requireSession(request);
    return { userId: session.userId, email: session.email, via: session.via };
  });
  // A page with two forms, each asking for the token.
  app.get('/site/two-forms', async (request, reply) => ({ first: csrfTokenOf(request, reply), second: csrfTokenOf(request, reply) }));
  app.post('/site/write', async () => ({ written: true }));
  app.post('/site/webhook', { config: { csrf: false } }, async () => ({ hooked: true }));
  await app.ready();
  return app;
}

/** A browser's cookie jar over `app.inject`: sends what it was given, forgets what was cleared. */
export class Browser {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;
  readonly app: FastifyInstance;
  readonly ip: string;
  constructor(app: FastifyInstance, ip = '203.0.113.1') {
    this.app = app;
    this.ip = ip;
  }

  async request(options: InjectOptions & { csrf?: boolean }): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
    if (cookie !== '') headers.cookie = cookie;
    if (options.csrf !== false && this.csrfToken !== undefined) headers['x-csrf-token'] = this.csrfToken;
    const { csrf: _csrf, ...inject } = options;
    const response = await this.app.inject({ ...inject, headers, remoteAddress: this.ip });
    for (const set of response.cookies as { name: string; value: string; maxAge?: number }[]) {
      if (set.maxAge === 0 || set.value === '') this.cookies.delete(set.name);
      else this.cookies.set(set.name, set.value);
    }
    const body = response.headers['content-type']?.toString().includes('json') ? response.json() : undefined;
    if (typeof body?.csrfToken === 'string') this.csrfToken = body.csrfToken;
    return response;
  }

  /** GET /account/csrf: what a page load gives the script. */
  async loadPage(): Promise<void> {
    await this.request({ method: 'GET', url: '/account/csrf' });
  }

  signUp(email: string, password: string) {
    return this.request({ method: 'POST', url: '/account/signup', payload: { email, password } });
  }

  signIn(email: string, password: string) {
    return this.request({ method: 'POST', url: '/account/signin', payload: { email, password } });
  }
}
