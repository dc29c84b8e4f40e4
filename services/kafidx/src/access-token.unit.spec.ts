import { describe, expect, it } from 'vitest';
import { createAccessCheck, presentedToken, sameOrigin, TOKEN_COOKIE } from './access-token.ts';

const TOKEN = 'correct-horse-battery-staple';
const access = createAccessCheck(TOKEN);

describe('access token', () => {
  it('is taken from the Authorization header, the query, then the cookie', () => {
    expect(presentedToken({ authorization: `Bearer ${TOKEN}` }, '/')).toEqual({ token: TOKEN, via: 'header' });
    expect(presentedToken({}, `/ws?token=${TOKEN}`)).toEqual({ token: TOKEN, via: 'query' });
    expect(presentedToken({ cookie: `a=1; ${TOKEN_COOKIE}=${TOKEN}` }, '/')).toEqual({ token: TOKEN, via: 'cookie' });
    expect(presentedToken({ authorization: 'Basic abc' }, '/')).toBeUndefined();
    expect(presentedToken({}, '/?token=')).toBeUndefined();
  });

  it('lets in the right token only', () => {
    expect(access.check({ authorization: `Bearer ${TOKEN}` }, '/')).toEqual({ ok: true, via: 'header' });
    expect(access.check({}, `/?token=${TOKEN}`)).toEqual({ ok: true, via: 'query' });
    expect(access.check({}, '/')).toMatchObject({ ok: false, rule: expect.stringContaining('is required') });
    expect(access.check({ authorization: `Bearer ${TOKEN}x` }, '/')).toEqual({ ok: false, rule: 'must be the KAFIDX_TOKEN kafidx was started with' });
    expect(access.check({}, '/?token=short')).toMatchObject({ ok: false });
  });

  it('the cookie it sets is HttpOnly and SameSite=Strict', () => {
    expect(access.cookie()).toBe(`${TOKEN_COOKIE}=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`);
  });

  it('same origin: no Origin header, or one naming the Host', () => {
    expect(sameOrigin({ host: 'kafidx:8086' })).toBe(true);
    expect(sameOrigin({ host: 'kafidx:8086', origin: 'http://kafidx:8086' })).toBe(true);
    expect(sameOrigin({ host: 'kafidx:8086', origin: 'https://evil.example' })).toBe(false);
    expect(sameOrigin({ host: 'kafidx:8086', origin: 'null' })).toBe(false);
  });
});
