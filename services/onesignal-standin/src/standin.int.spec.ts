import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MESSAGES, startStandin, type RecordedCall, type Standin } from './standin.ts';

const appId = '2f4c5b1e-8a9d-4e6f-b3c2-1d0e9f8a7b6c';
const apiKey = 'standin-test-key';
let standin: Standin;

beforeAll(async () => {
  standin = await startStandin({ appId, apiKey });
});
afterAll(async () => {
  await standin.close();
});
beforeEach(async () => {
  await fetch(`${standin.url}/_standin/requests`, { method: 'DELETE' });
  await fetch(`${standin.url}/_standin/script`, { method: 'DELETE' });
});

const notification = (extra: Record<string, unknown> = {}) => ({
  app_id: appId,
  idempotency_key: randomUUID(),
  target_channel: 'push',
  include_aliases: { external_id: ['user-1'] },
  headings: { en: 'Bike nearby' },
  contents: { en: 'Someone 300 m away offers a bike' },
  ...extra,
});

async function post(body: unknown, options: { auth?: string | null; path?: string; raw?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (options.auth !== null) headers.authorization = options.auth ?? `Basic ${apiKey}`;
  const res = await fetch(`${standin.url}${options.path ?? '/notifications'}`, { method: 'POST', headers, body: options.raw ?? JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, retryAfter: res.headers.get('retry-after') };
}

const script = (body: unknown) => fetch(`${standin.url}/_standin/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const received = async () => ((await (await fetch(`${standin.url}/_standin/requests`)).json()) as { count: number; requests: RecordedCall[] });

describe('the OneSignal stand-in', () => {
  it('creates a notification: 200 {id}, with Basic or Key, at /notifications and /api/v1/notifications', async () => {
    for (const [auth, path] of [[`Basic ${apiKey}`, '/notifications'], [`Key ${apiKey}`, '/api/v1/notifications']] as const) {
      const res = await post(notification(), { auth, path });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    }
    const { count, requests } = await received();
    expect(count).toBe(2);
    expect(requests.map((r) => [r.seq, r.authScheme, r.path, r.status])).toEqual([[1, 'Basic', '/notifications', 200], [2, 'Key', '/api/v1/notifications', 200]]);
    expect(requests[0]!.body).toMatchObject({ app_id: appId, include_aliases: { external_id: ['user-1'] }, target_channel: 'push' });
  });

  it('checks the Authorization header and the app_id', async () => {
    expect(await post(notification(), { auth: null })).toMatchObject({ status: 401, json: { errors: [MESSAGES.noAuth] } });
    expect(await post(notification(), { auth: 'Bearer x' })).toMatchObject({ status: 401 });
    expect(await post(notification(), { auth: 'Basic wrong' })).toMatchObject({ status: 403, json: { errors: [MESSAGES.noAuth] } });
    expect(await post(notification({ app_id: randomUUID() }))).toMatchObject({ status: 400, json: { errors: [MESSAGES.badAppId] } });
    expect(await post(notification({ app_id: undefined }))).toMatchObject({ status: 400, json: { errors: [MESSAGES.badAppId] } });
  });

  it('answers 400 with {errors} for missing contents or targets, and other bad bodies', async () => {
    expect(await post(notification({ contents: undefined }))).toMatchObject({ status: 400, json: { errors: [MESSAGES.noContents] } });
    expect(await post(notification({ include_aliases: undefined }))).toMatchObject({ status: 400, json: { errors: [MESSAGES.noTargets] } });
    expect((await post(notification({ target_channel: undefined }))).json).toEqual({ errors: ['target_channel is required with include_aliases (push, email or sms)'] });
    expect((await post(notification({ include_aliases: { external_id: Array.from({ length: 2_001 }, (_, i) => `u${i}`) } }))).json)
      .toEqual({ errors: ['include_aliases: at most 2000 aliases per call'] });
    expect((await post(notification({ idempotency_key: 'abc' }))).json).toEqual({ errors: ['idempotency_key must be a UUID'] });
    const notJson = await post(undefined, { raw: '{"app_id":' });
    expect(notJson.status).toBe(400);
    expect((notJson.json!.errors as string[])[0]).toMatch(/^Invalid request body/);
  });

  it('answers the same id for an idempotency_key it has seen, and marks the call a duplicate', async () => {
    const body = notification();
    const first = await post(body);
    const again = await post(body);
    expect(again.json).toEqual(first.json);
    expect((await received()).requests.map((r) => r.duplicate ?? false)).toEqual([false, true]);
    expect(standin.notifications()).toHaveLength(2);
  });

  it('a 200 with errors.invalid_aliases for external ids that are not subscribed', async () => {
    const some = await post(notification({ include_aliases: { external_id: ['user-1', 'unknown-7'] } }));
    expect(some.json).toEqual({ id: expect.any(String), errors: { invalid_aliases: { external_id: ['unknown-7'] } } });
    const none = await post(notification({ include_aliases: { external_id: ['unknown-7'] } }));
    expect(none).toMatchObject({ status: 200, json: { id: '', errors: { invalid_aliases: { external_id: ['unknown-7'] } } } });
  });

  it('answers a script in turn — 429 with Retry-After, 500, then 200 — and then normally again', async () => {
    expect((await script({ statuses: [429, 500, 200], retryAfter: 2 })).status).toBe(200);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await post(notification()));
    expect(answers.map((a) => a.status)).toEqual([429, 500, 200, 200]);
    expect(answers[0]).toMatchObject({ retryAfter: '2', json: { errors: [MESSAGES.rateLimited] } });
    expect(answers[1]).toMatchObject({ retryAfter: null, json: { errors: [MESSAGES.serverError] } });
    expect(answers[2]!.json).toEqual({ id: expect.any(String) });
    expect((await received()).requests.map((r) => r.scripted)).toEqual([true, true, true, false]);
  });

  it('401 then 200; 400; blank and non-JSON bodies; scripts for one user only', async () => {
    await script({ statuses: [401, 200] });
    expect((await post(notification())).status).toBe(401);
    expect((await post(notification())).status).toBe(200);
    await script({ statuses: [400, { status: 200, body: '' }, { status: 502, body: '<html>Bad Gateway</html>', contentType: 'text/html' }] });
    expect(await post(notification())).toMatchObject({ status: 400, json: { errors: ['Bad Request'] } });
    expect(await post(notification())).toMatchObject({ status: 200, text: '' });
    expect(await post(notification())).toMatchObject({ status: 502, text: '<html>Bad Gateway</html>' });

    await script({ statuses: [503], forUser: 'user-2' });
    expect((await post(notification())).status).toBe(200);
    expect(await post(notification({ include_aliases: { external_id: ['user-2'] } }))).toMatchObject({ status: 503, retryAfter: '1' });
    expect((await post(notification({ include_aliases: { external_id: ['user-2'] } }))).status).toBe(200);
  });

  it('a bad key is answered so whatever the script says, and does not use up the script', async () => {
    await script({ statuses: [500] });
    expect((await post(notification(), { auth: 'Basic wrong' })).status).toBe(403);
    expect((await post(notification())).status).toBe(500);
  });

  it('rejects a bad script, and DELETE /_standin/requests forgets what it received', async () => {
    const bad = await script({ statuses: [42] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ errors: ['statuses must be HTTP statuses (200–599) or {status, body?, contentType?, retryAfter?, delayMs?}'] });
    await post(notification());
    expect((await received()).count).toBe(1);
    await fetch(`${standin.url}/_standin/requests`, { method: 'DELETE' });
    expect((await received()).count).toBe(0);
  });
});

describe('the stand-in counts', () => {
  it('GET /_standin/stats: calls, notifications created (not duplicates), by status', async () => {
    await script({ statuses: [500] });
    const body = notification();
    await post(body);
    await post(body);
    await post(body);
    await post(notification(), { auth: 'Basic wrong' });
    const stats = await (await fetch(`${standin.url}/_standin/stats`)).json();
    expect(stats).toEqual({ calls: 4, created: 1, byStatus: { 200: 2, 403: 1, 500: 1 } });
    expect(standin.stats()).toEqual(stats);
  });
});
