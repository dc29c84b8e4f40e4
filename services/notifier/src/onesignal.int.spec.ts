// Both clients make the same call to the stand-in, and hand back what came back —
// except what onesignal-node cannot see (pinned here, described in the README).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PushRequest } from '@pushtech/contracts';
import { startStandin, type Standin } from '@pushtech/onesignal-standin';
import { freePort } from '@pushtech/testing';
import { createFetchSender, createOneSignalNodeSender, notificationBody, type NotificationSender } from './onesignal.ts';
import { pushRequest } from './fixtures/requests.ts';

const appId = '2f4c5b1e-8a9d-4e6f-b3c2-1d0e9f8a7b6c';
const apiKey = 'standin-test-key';
let standin: Standin;
let senders: NotificationSender[];

beforeAll(async () => {
  standin = await startStandin({ appId, apiKey });
  const options = { apiRoot: standin.apiRoot, appId, apiKey, timeoutMs: 500 };
  senders = [createOneSignalNodeSender(options), createFetchSender(options)];
});
afterAll(async () => {
  await standin.close();
});
beforeEach(() => {
  standin.clear();
  standin.clearScripts();
});

const body = () => notificationBody(pushRequest({ userIds: ['user-1', 'user-2'] }) as PushRequest);

describe.each(['onesignal-node', 'fetch'])('the %s client', (name) => {
  const sender = () => senders.find((s) => s.name === name)!;

  it('POSTs {apiRoot}/notifications with app_id, the idempotency key and aliases on the push channel, authorized with Basic', async () => {
    const request = pushRequest({ userIds: ['user-1'] }) as PushRequest;
    const answer = await sender().send(notificationBody(request));
    expect(answer).toMatchObject({ kind: 'http', status: 200 });
    const [call] = standin.calls;
    expect(call).toMatchObject({ path: '/notifications', authScheme: 'Basic', status: 200 });
    expect(call!.body).toEqual({
      app_id: appId,
      idempotency_key: request.uuid,
      target_channel: 'push',
      include_aliases: { external_id: ['user-1'] },
      headings: { en: 'Bike nearby' },
      contents: { en: 'Someone 300 m away offers a bike' },
      data: { matchId: 'm1' },
    });
  });

  it('hands back status and text of 2xx, 4xx and 5xx answers, blank and non-JSON ones included', async () => {
    standin.script({ statuses: [{ status: 200, body: '' }, { status: 200, body: 'plain text' }, 400, { status: 500, body: '' }, { status: 502, body: 'Bad Gateway' }] });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await sender().send(body()));
    expect(answers).toEqual([
      { kind: 'http', status: 200, text: '' },
      { kind: 'http', status: 200, text: 'plain text' },
      { kind: 'http', status: 400, text: '{"errors":["Bad Request"]}' },
      { kind: 'http', status: 500, text: '' },
      { kind: 'http', status: 502, text: 'Bad Gateway' },
    ]);
  });

  it('a call that gets no answer in time is an answer of kind error', async () => {
    standin.script({ statuses: [{ status: 200, delayMs: 800 }] });
    expect(await sender().send(body())).toEqual({ kind: 'error', message: 'timeout' });
  });
});

describe('where the clients differ', () => {
  it('Retry-After of a 429: fetch sees it, onesignal-node does not (its HTTPError keeps no headers)', async () => {
    standin.script({ statuses: [429, 429], retryAfter: 3 });
    const [node, viaFetch] = [await senders[0]!.send(body()), await senders[1]!.send(body())];
    expect(node).toEqual({ kind: 'http', status: 429, text: '{"errors":["API rate limit exceeded"]}' });
    expect(viaFetch).toEqual({ kind: 'http', status: 429, text: '{"errors":["API rate limit exceeded"]}', retryAfter: '3' });
  });

  it('the raw body: fetch keeps it as sent, onesignal-node re-serialises JSON', async () => {
    standin.script({ statuses: [{ status: 400, body: '{ "errors": [ "spaced" ] }' }, { status: 400, body: '{ "errors": [ "spaced" ] }' }] });
    expect(await senders[0]!.send(body())).toMatchObject({ text: '{"errors":["spaced"]}' });
    expect(await senders[1]!.send(body())).toMatchObject({ text: '{ "errors": [ "spaced" ] }' });
  });

  it('only fetch can send the Key scheme of current OneSignal App API keys', async () => {
    const viaKey = createFetchSender({ apiRoot: standin.apiRoot, appId, apiKey, timeoutMs: 500, authScheme: 'Key' });
    expect(await viaKey.send(body())).toMatchObject({ status: 200 });
    expect(standin.calls[0]!.authScheme).toBe('Key');
    expect(() => createOneSignalNodeSender({ apiRoot: standin.apiRoot, appId, apiKey, timeoutMs: 500, authScheme: 'Key' })).toThrow(/only "Authorization: Basic/);
  });

  it('no server at all: both give an answer of kind error', async () => {
    const options = { apiRoot: `http://127.0.0.1:${await freePort()}`, appId, apiKey, timeoutMs: 2_000 };
    for (const sender of [createOneSignalNodeSender(options), createFetchSender(options)]) {
      expect(await sender.send(body())).toMatchObject({ kind: 'error', message: expect.stringMatching(/ECONNREFUSED/) });
    }
  });
});
