// The protocol end to end: requests produced to Kafka, a notifier (its service) in this
// process, the OneSignal stand-in answering scripted statuses, responses read from Kafka.
// Run once with each client (onesignal-node, fetch).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Script, type Standin } from '@pushtech/onesignal-standin';
import { waitFor } from '@pushtech/testing';
import { freshNames, notifierEnv, startBench, startNotifier, STANDIN_API_KEY, STANDIN_APP_ID, type Bench, type RunningNotifier } from './fixtures/harness.ts';
import { connectRequest, pushRequest } from './fixtures/requests.ts';
import type { NotifyResponse } from '@pushtech/contracts';
import { RETRIES } from './retry-store.ts';

let standin: Standin;
beforeAll(async () => {
  standin = await startStandin({ appId: STANDIN_APP_ID, apiKey: STANDIN_API_KEY });
});
afterAll(async () => {
  await standin.close();
});

interface Case {
  name: string;
  style?: Record<string, unknown>;
  script?: Omit<Script, 'forUser'>;
  expected: (response: NotifyResponse) => void;
  /** Calls the stand-in gets for it. */
  calls: number;
}

const failure = (reason: string | RegExp) => (r: NotifyResponse) => {
  expect(r.type).toBe('failure');
  expect(r.info).toBeUndefined();
  if (typeof reason === 'string') expect(r.reason).toBe(reason);
  else expect(r.reason).toMatch(reason);
};
const success = (r: NotifyResponse) => {
  expect(r.type).toBe('success');
  expect(r.info).toBeUndefined();
};
const copy = (status: number, body: unknown) => (r: NotifyResponse) => {
  expect(r.type).toBe('copy');
  expect(r.info).toEqual({ status, body });
};

const only = (statusClass: string, operation: string, extra: Record<string, unknown> = {}) => ({ [statusClass]: { operation, ...extra } });

const cases: Case[] = [
  // Each operation for each status class.
  { name: '2xx copy', style: only('2xx', 'copy'), expected: copy(200, { id: expect.stringMatching(/^[0-9a-f-]{36}$/) }), calls: 1 },
  { name: '2xx success', style: only('2xx', 'success'), expected: success, calls: 1 },
  { name: '2xx failure', style: only('2xx', 'failure'), expected: failure('status 200'), calls: 1 },
  { name: '2xx retry (until the attempts run out)', style: only('2xx', 'retry'), expected: failure('gave up after 4 attempts: status 200'), calls: 4 },
  { name: '4xx copy', style: only('4xx', 'copy'), script: { statuses: [400] }, expected: copy(400, { errors: ['Bad Request'] }), calls: 1 },
  { name: '4xx success', style: only('4xx', 'success'), script: { statuses: [404] }, expected: success, calls: 1 },
  { name: '4xx failure', style: only('4xx', 'failure'), script: { statuses: [400] }, expected: failure('status 400'), calls: 1 },
  { name: '4xx retry', style: { ...only('4xx', 'retry'), ...only('2xx', 'success') }, script: { statuses: [400, 404] }, expected: success, calls: 3 },
  { name: '5xx copy', style: only('5xx', 'copy'), script: { statuses: [500] }, expected: copy(500, { errors: ['Internal Server Error'] }), calls: 1 },
  { name: '5xx success', style: only('5xx', 'success'), script: { statuses: [503] }, expected: success, calls: 1 },
  { name: '5xx failure', style: only('5xx', 'failure'), script: { statuses: [502] }, expected: failure('status 502'), calls: 1 },
  { name: '5xx retry', style: { ...only('5xx', 'retry'), ...only('2xx', 'success') }, script: { statuses: [500, 503, 500] }, expected: success, calls: 4 },
  { name: 'no style: 2xx is success', expected: success, calls: 1 },
  { name: 'no style: 5xx is failure', script: { statuses: [500] }, expected: failure('status 500'), calls: 1 },
  // copy bodies
  { name: 'copy of a blank body', style: only('2xx', 'copy'), script: { statuses: [{ status: 200, body: '' }] }, expected: copy(200, ''), calls: 1 },
  { name: 'copy raw', style: only('2xx', 'copy', { raw: true }), script: { statuses: [{ status: 200, body: 'accepted', contentType: 'text/plain' }] }, expected: copy(200, 'accepted'), calls: 1 },
  { name: 'copy raw of a 4xx', style: only('4xx', 'copy', { raw: true }), script: { statuses: [{ status: 403, body: 'denied' }] }, expected: copy(403, 'denied'), calls: 1 },
  {
    name: 'copy of a body that is not JSON is a failure', style: only('5xx', 'copy'),
    script: { statuses: [{ status: 502, body: '<html>Bad Gateway</html>', contentType: 'text/html' }] },
    expected: failure(/^copy: the body of the 502 answer is not JSON/), calls: 1,
  },
  // Always retried.
  { name: '429 retried until success', style: { ...only('4xx', 'failure'), ...only('2xx', 'success') }, script: { statuses: [429, 429], retryAfter: 0.05 }, expected: success, calls: 3 },
  { name: '401 retried until success', style: { ...only('4xx', 'failure'), ...only('2xx', 'success') }, script: { statuses: [401] }, expected: success, calls: 2 },
];

describe.each(['onesignal-node', 'fetch'])('the notifier with the %s client', (client) => {
  let bench: Bench;
  let notifier: RunningNotifier;

  beforeAll(async () => {
    bench = await startBench(freshNames('notifier'));
    notifier = await startNotifier(notifierEnv(bench.names, standin, { ONESIGNAL_CLIENT: client, RETRY_MAX_ATTEMPTS: '4' }));
  });
  afterAll(async () => {
    await notifier?.close();
    await bench?.close();
  });

  const userOf = (name: string) => `${client}-${name.replace(/\W+/g, '-')}`;
  const callsFor = (user: string) => standin.calls.filter((c) => (c.body as { include_aliases?: { external_id?: string[] } }).include_aliases?.external_id?.includes(user));

  it('answers every operation for every status class as the style says', async () => {
    const requests = cases.map((c) => {
      const user = userOf(c.name);
      if (c.script) standin.script({ ...c.script, forUser: user });
      return pushRequest({ responseTopic: bench.names.responseTopic, userIds: [user], ...(c.style ? { style: c.style } : {}) });
    });
    await bench.produce(requests);
    for (const [i, c] of cases.entries()) {
      const request = requests[i]!;
      const response = await bench.responseFor(request.uuid);
      expect.soft(response, c.name).toMatchObject({ uuid: request.uuid, versionUtcSeconds: request.versionUtcSeconds, handledAt: expect.any(Number) });
      c.expected(response);
      expect.soft(callsFor(userOf(c.name)), c.name).toHaveLength(c.calls);
    }
  });

  it('calls OneSignal with app_id, the uuid as idempotency key, the user ids as external ids on the push channel', async () => {
    const request = pushRequest({ responseTopic: bench.names.responseTopic, userIds: [userOf('shape-1'), userOf('shape-2')] });
    await bench.produce([request]);
    await bench.responseFor(request.uuid);
    const [call] = callsFor(userOf('shape-1'));
    expect(call).toMatchObject({ path: '/notifications', authScheme: 'Basic', status: 200 });
    expect(call!.body).toEqual({
      app_id: STANDIN_APP_ID,
      idempotency_key: request.uuid,
      target_channel: 'push',
      include_aliases: { external_id: [userOf('shape-1'), userOf('shape-2')] },
      headings: { en: 'Bike nearby' },
      contents: { en: 'Someone 300 m away offers a bike' },
      data: { matchId: 'm1' },
    });
    // Retries went out with the same idempotency key: OneSignal pushes once.
    const retried = callsFor(userOf('5xx retry'));
    expect(new Set(retried.map((c) => (c.body as { idempotency_key: string }).idempotency_key)).size).toBe(1);
  });

  it('a 200 with errors (invalid_aliases) is logged as partial and copied', async () => {
    const request = pushRequest({ responseTopic: bench.names.responseTopic, userIds: [userOf('partial'), 'unknown-1'], style: only('2xx', 'copy') });
    await bench.produce([request]);
    const response = await bench.responseFor(request.uuid);
    expect(response.info).toEqual({ status: 200, body: { id: expect.any(String), errors: { invalid_aliases: { external_id: ['unknown-1'] } } } });
    expect(notifier.lines.find((l) => l.uuid === request.uuid && l.msg.startsWith('push partly sent'))).toMatchObject({
      level: 'info', errors: { invalid_aliases: { external_id: ['unknown-1'] } },
    });
  });

  it('unknown style keys: a failure response and a warning, nothing sent', async () => {
    const request = pushRequest({ responseTopic: bench.names.responseTopic, userIds: [userOf('unknown-style')], style: { '2xx': { operation: 'copy' }, '3xx': { operation: 'retry' } } });
    await bench.produce([request]);
    expect(await bench.responseFor(request.uuid)).toMatchObject({ type: 'failure', reason: 'style.3xx: unknown style key (allowed: 2xx, 4xx, 5xx)' });
    expect(notifier.lines.find((l) => l.uuid === request.uuid && l.msg === 'request rejected')).toMatchObject({ level: 'warn' });
    expect(callsFor(userOf('unknown-style'))).toEqual([]);
  });

  it('bad requests never block the partition: without a response topic a warning and a counter; no response for a request without one', async () => {
    const noTopic = pushRequest({ responseTopic: null, userIds: [userOf('no-topic')] });
    const badNoTopic = { ...pushRequest({ responseTopic: null }), args: { content: 'nobody' } };
    const after = pushRequest({ responseTopic: bench.names.responseTopic, userIds: [userOf('after-bad')] });
    await bench.produce(['{"type": "push", "uuid":', badNoTopic, noTopic, after]);
    await bench.responseFor(after.uuid);
    await waitFor(() => (callsFor(userOf('no-topic')).length === 1 ? true : undefined), 'the request without response topic sent');
    await bench.responses.caughtUp(); // the marker: every response written so far is read
    expect(bench.responses.values<NotifyResponse>().filter((r) => r.uuid === noTopic.uuid || r.uuid === badNoTopic.uuid)).toEqual([]);
    const metrics = (await notifier.http.inject('/metrics')).body;
    expect(metrics).toMatch(/notifier_requests_rejected_total\{reason="not_json",service="notifier"\} 1/);
    expect(metrics).toMatch(/notifier_requests_rejected_total\{reason="invalid",service="notifier"\} 1/);
  });

  it('_ping answers success; other _ types are rejected', async () => {
    const ping = { type: '_ping', responseTopic: bench.names.responseTopic, uuid: randomUUID(), versionUtcSeconds: 1 };
    const other = { type: '_reload', responseTopic: bench.names.responseTopic, uuid: randomUUID(), versionUtcSeconds: 1 };
    await bench.produce([ping, other]);
    expect(await bench.responseFor(ping.uuid)).toMatchObject({ type: 'success', versionUtcSeconds: 1 });
    expect(await bench.responseFor(other.uuid)).toMatchObject({ type: 'failure', reason: 'type "_reload" is unknown (known: _connect, _ping)' });
  });

  it('serves /metrics per operation and status class, queue depth per producer, retries pending; /readyz names its dependencies', async () => {
    const metrics = (await notifier.http.inject('/metrics')).body;
    expect(metrics).toMatch(/notifier_outcomes_total\{operation="copy",status_class="2xx",service="notifier"\} \d+/);
    expect(metrics).toMatch(/notifier_outcomes_total\{operation="retry",status_class="5xx",service="notifier"\} \d+/);
    expect(metrics).toContain(`notifier_queue_depth{producer="${bench.names.responseTopic}",service="notifier"} 0`);
    expect(metrics).toMatch(/notifier_retries_pending\{service="notifier"\} 0/);
    const ready = await notifier.http.inject('/readyz');
    expect(ready.json()).toEqual({ status: 'ready', checks: { mongo: 'ok', kafka: 'ok', started: 'ok' } });
    // Every settled request was committed: a new consumer of the group would start at the end.
    await waitFor(async () => (await bench.db.collection(RETRIES).countDocuments()) === 0 || undefined, 'an empty retry store');
  });
});

describe('versions through Kafka', () => {
  let bench: Bench;
  let notifier: RunningNotifier;
  beforeAll(async () => {
    bench = await startBench(freshNames('notifierv'));
    notifier = await startNotifier(notifierEnv(bench.names, standin, { ONESIGNAL_CLIENT: 'fetch', RETRY_BASE_MS: '300', RETRY_MAX_MS: '300', RETRY_MAX_ATTEMPTS: '50' }));
  });
  afterAll(async () => {
    await notifier?.close();
    await bench?.close();
  });

  it('a newer _connect drops the stale retries of its response topic; ignore_version keeps them', async () => {
    const topic = bench.names.responseTopic;
    const retry = { '5xx': { operation: 'retry' }, '2xx': { operation: 'success' } };
    const stale = pushRequest({ responseTopic: topic, versionUtcSeconds: 100, userIds: ['v-stale'], style: retry });
    const kept = pushRequest({ responseTopic: topic, versionUtcSeconds: 100, userIds: ['v-kept'], style: { ...retry, '5xx': { operation: 'retry', ignore_version: true } } });
    standin.script({ statuses: Array(40).fill(500), forUser: 'v-stale' });
    standin.script({ statuses: [500, 500, 500], forUser: 'v-kept' });
    await bench.produce([stale, kept]);
    await waitFor(() => (notifier.events.filter((e) => e.kind === 'retry').length >= 2 ? true : undefined), 'both waiting for a retry');
    // The retry is stored just after its event.
    await waitFor(async () => (await bench.db.collection(RETRIES).countDocuments({ _id: stale.uuid as never })) === 1 || undefined, 'the stale retry stored');

    const connect = connectRequest(topic, 200);
    await bench.produce([connect]);
    expect(await bench.responseFor(connect.uuid)).toMatchObject({ type: 'success', versionUtcSeconds: 200 });
    expect((await bench.responseFor(kept.uuid)).type).toBe('success');
    await waitFor(() => notifier.events.find((e) => e.kind === 'dropped' && e.uuid === stale.uuid), 'the stale retry dropped');
    expect(bench.responses.values<NotifyResponse>().some((r) => r.uuid === stale.uuid)).toBe(false);
    await waitFor(async () => (await bench.db.collection(RETRIES).countDocuments()) === 0 || undefined, 'no stored retries');
    expect(await bench.db.collection('notifier_versions').findOne({ _id: topic as never })).toEqual({ _id: topic, versionUtcSeconds: 200 });
    const metrics = (await notifier.http.inject('/metrics')).body;
    expect(metrics).toMatch(/notifier_dropped_total\{reason="stale",service="notifier"\} 1/);
  });
});
