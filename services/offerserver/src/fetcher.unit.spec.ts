import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchUrl, isPublicAddress, retryAfterMs, type FetchOptions } from './fetcher.ts';
import { startFixtureServer, type FixtureServer } from './test-offerserver.ts';

const options: FetchOptions = { userAgent: 'PushtechOfferServer/test (+https://example.org/contact)', timeoutMs: 2_000, maxBytes: 5 * 1024 * 1024, maxRedirects: 5, allowPrivate: true };
let server: FixtureServer;

beforeAll(async () => {
  server = await startFixtureServer({
    '/feed': (req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`ua=${req.headers['user-agent']}`),
    '/loop': (_req, res) => res.writeHead(302, { location: '/loop' }).end(),
    '/hop': (_req, res) => res.writeHead(301, { location: '/feed' }).end(),
    '/to-file': (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end(),
    '/huge': (_req, res) => {
      // 10 MB, streamed without a Content-Length
      res.writeHead(200, { 'content-type': 'application/xml' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const write = () => {
        while (sent < 10 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return res.once('drain', write);
        }
        res.end();
      };
      res.on('error', () => {});
      write();
    },
    '/huge-declared': (_req, res) => res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) }).end(),
    '/slow': (_req, res) => { setTimeout(() => res.writeHead(200).end('late'), 3_000).unref(); },
  });
});
afterAll(() => server.close());

describe('fetchUrl', () => {
  it('refuses loopback addresses by default, by IP and by name', async () => {
    await expect(fetchUrl(`${server.url}/feed`, { ...options, allowPrivate: false })).rejects.toMatchObject({ code: 'refused_address' });
    await expect(fetchUrl(`${server.url.replace('127.0.0.1', 'localhost')}/feed`, { ...options, allowPrivate: false })).rejects.toMatchObject({ code: 'refused_address' });
    expect(server.hits('/feed')).toBe(0);
  });

  it('fetches with the User-Agent when private addresses are allowed, and follows a redirect', async () => {
    const result = await fetchUrl(`${server.url}/hop`, options);
    expect(result.status).toBe(200);
    expect(result.url).toBe(`${server.url}/feed`);
    expect(result.body.toString()).toBe(`ua=${options.userAgent}`);
  });

  it('stops a redirect loop after FETCH_MAX_REDIRECTS', async () => {
    const before = server.hits('/loop');
    await expect(fetchUrl(`${server.url}/loop`, options)).rejects.toMatchObject({ code: 'too_many_redirects' });
    expect(server.hits('/loop') - before).toBe(6);
  });

  it('refuses other schemes, also as a redirect target', async () => {
    await expect(fetchUrl('ftp://example.org/feed', options)).rejects.toMatchObject({ code: 'bad_url' });
    await expect(fetchUrl(`${server.url}/to-file`, options)).rejects.toMatchObject({ code: 'bad_url' });
  });

  it('stops reading a 10 MB body at the 5 MB limit, declared or not', async () => {
    await expect(fetchUrl(`${server.url}/huge`, options)).rejects.toMatchObject({ code: 'too_large' });
    await expect(fetchUrl(`${server.url}/huge-declared`, options)).rejects.toMatchObject({ code: 'too_large' });
  });

  it('gives up at the timeout', async () => {
    await expect(fetchUrl(`${server.url}/slow`, { ...options, timeoutMs: 200 })).rejects.toMatchObject({ code: 'timeout' });
  });
});

describe('isPublicAddress', () => {
  it('accepts public unicast only', () => {
    expect(isPublicAddress('93.184.216.34')).toBe(true);
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '0.0.0.0']) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('120', 0)).toBe(120_000);
    expect(retryAfterMs(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
  });
});
