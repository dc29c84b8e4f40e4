// The notifier started while Kafka is unreachable: alive (/healthz 200), unready (/readyz 503
// naming Kafka); once Kafka is reachable it becomes ready and answers the request that waited in
// the topic. Kafka is "away" behind a TCP proxy that resets connections, then forwards them to the
// shared broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '@pushtech/onesignal-standin';
import { stackAddresses, startTcpProxy, waitFor, type TcpProxy } from '@pushtech/testing';
import { notifierService } from './app.ts';
import { loadNotifierConfig } from './config.ts';
import { freshNames, notifierEnv, startBench, STANDIN_API_KEY, STANDIN_APP_ID, type Bench } from './fixtures/harness.ts';
import { captureLogger, pushRequest } from './fixtures/requests.ts';

describe('the notifier started while Kafka is unreachable', () => {
  let standin: Standin;
  let bench: Bench;
  let proxy: TcpProxy;
  let notifier: Awaited<ReturnType<ReturnType<typeof notifierService>['start']>>;
  beforeAll(async () => {
    standin = await startStandin({ appId: STANDIN_APP_ID, apiKey: STANDIN_API_KEY });
    bench = await startBench(freshNames('notifieraway'));
    proxy = await startTcpProxy(stackAddresses().kafkaBrokers[0]!);
    const config = loadNotifierConfig(notifierEnv(bench.names, standin, { KAFKA_BROKERS: proxy.address }));
    notifier = await notifierService().start({ config, logger: captureLogger('warn').logger, listen: false });
  });
  afterAll(async () => {
    await notifier?.stop();
    await proxy?.close();
    await bench?.close();
    await standin?.close();
  });

  it('is alive and unready naming Kafka; ready once Kafka is reachable, then answers what waited', async () => {
    // The marker: MongoDB is connected (it comes first) and Kafka has been tried and refused.
    await waitFor(() => (proxy.refused > 0 ? true : undefined), 'the notifier to try Kafka', 30_000);
    expect((await notifier.http.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const unready = await notifier.http.inject('/readyz');
    expect(unready.statusCode).toBe(503);
    expect(unready.json()).toEqual({
      status: 'unready',
      checks: { mongo: 'ok', kafka: expect.stringMatching(/^error: connecting to kafka/), started: expect.stringMatching(/^error: connecting to kafka/) },
    });
    const request = pushRequest({ responseTopic: bench.names.responseTopic, userIds: ['away-1'] });
    await bench.produce([request]);

    proxy.forward();
    const ready = await waitFor(async () => {
      const response = await notifier.http.inject('/readyz');
      return response.statusCode === 200 ? response.json() : undefined;
    }, 'the notifier to be ready', 60_000, 100);
    expect(ready).toEqual({ status: 'ready', checks: { mongo: 'ok', kafka: 'ok', started: 'ok' } });
    expect(await bench.responseFor(request.uuid)).toMatchObject({ type: 'success', uuid: request.uuid });
  }, 120_000);
});
