// Both clients make the same call to the stand-in, and hand back what came back —
// except what onesignal-node cannot see (pinned here, described in the README).
// Each case has a stand-in of its own: a call still under way when its case ends (the
// timeout case's) is recorded by that case's stand-in, never by the next case's.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PushRequest } from '@pushtech/contracts';
import { startStandin, type Standin } from '@pushtech/onesignal-standin';
import { freePort, waitFor } from '@pushtech/testing';
import { createFetchSender, createOneSignalNodeSender, notificationBody, type NotificationSender } from './onesignal.ts';
import { pushRequest } from './fixtures/requests.ts';

const appId = '2f4c5b1e-8a9d-4e6f-b3c2-1d0e9f8a7b6c';
const apiKey = 'standin-test-key';

/** A stand-in and both clients pointed at it. */
async function startFixture(): Promise<{ standin: Standin; senders: NotificationSender[] }> {
  const standin = await startStandin({ appId, apiKey });
  const options = { apiRoot: standin.apiRoot, appId, apiKey, timeoutMs: 500 };
  return { standin, senders: [createOneSignalNodeSender(options), createFetchSender(options)] };
}

let standin: Standin;
let senders: NotificationSender[];
beforeEach(async () => {
  ({ standin, senders } = await startFixture());
});
afterEach(async () => {
  await standin.close();
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
    // The stand-in answers later: the case ends once it has, so its stand-in closes with no call under way.
    await waitFor(() => (standin.calls.length === 1 ? true : undefined), 'the stand-in to answer the call');
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

  it('a case never sees another case\'s call: one answered after its case ended stays with that case\'s stand-in', async () => {
    const earlier = await startFixture(); // as the timeout case has it
    try {
      earlier.standin.script({ statuses: [{ status: 200, delayMs: 800 }] });
      expect(await earlier.senders[1]!.send(body())).toEqual({ kind: 'error', message: 'timeout' });
      // The worst order: the earlier case's call is recorded before this case makes its own.
      await waitFor(() => (earlier.standin.calls.length === 1 ? true : undefined), 'the earlier case\'s call recorded');
      const request = pushRequest({ userIds: ['user-1'] }) as PushRequest;
      await senders[1]!.send(notificationBody(request));
      expect(standin.calls.map((c) => (c.body as { idempotency_key: string }).idempotency_key)).toEqual([request.uuid]);
    } finally {
      await earlier.standin.close();
    }
  });

  it('no server at all: both give an answer of kind error', async () => {
    const options = { apiRoot: `http://127.0.0.1:${await freePort()}`, appId, apiKey, timeoutMs: 2_000 };
    for (const sender of [createOneSignalNodeSender(options), createFetchSender(options)]) {
      expect(await sender.send(body())).toMatchObject({ kind: 'error', message: expect.stringMatching(/ECONNREFUSED/) });
    }
  });
});
