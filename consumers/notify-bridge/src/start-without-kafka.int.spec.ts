// The notify bridge started while Kafka is unreachable: alive (/healthz 200), unready (/readyz
// 503 naming Kafka); once Kafka is reachable it becomes ready and turns the match.found that waited
// in the topic into requests. Kafka is "away" behind a TCP proxy that resets connections, then
// forwards them to the shared broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesTopic, topics, usersTopic } from '@pushtech/contracts';
import { createKafka, createProducer, ensureTopics, type Producer } from '@pushtech/kafka';
import { connectMongo, type MongoClient } from '@pushtech/mongo';
import { probesWhileAway, readTopic, startTcpProxy, untilReady, type TcpProxy, type TopicReader } from '@pushtech/testing';
import { bridgeService } from './app.ts';
import type { BridgePushRequest } from './notify-request.ts';
import { testLogger, testSettings } from './test-bridge.ts';

describe('the notify bridge started while Kafka is unreachable', () => {
  const settings = testSettings();
  const logger = testLogger();
  const kafka = createKafka({ clientId: 'notify-bridge-test', brokers: settings.KAFKA_BROKERS, logger });
  let proxy: TcpProxy;
  let producer: Producer;
  let requests: TopicReader;
  let mongo: MongoClient;
  let bridge: Awaited<ReturnType<ReturnType<typeof bridgeService>['start']>>;
  beforeAll(async () => {
    await ensureTopics(kafka, [
      { ...topics.users, name: settings.USERS_TOPIC },
      { ...topics.matches, name: settings.MATCHES_TOPIC },
      { ...topics.notifyRequests, name: settings.REQUESTS_TOPIC },
    ]);
    producer = await createProducer(kafka);
    requests = await readTopic(kafka, settings.REQUESTS_TOPIC, logger);
    mongo = await connectMongo(settings.MONGO_URL, { appName: 'notify-bridge-test' });
    await mongo.db(settings.MONGO_DB).collection('listings').insertMany([{ _id: 's-away', title: 'lamp' }, { _id: 'o-away', title: 'Desk lamp' }] as never[]);
    proxy = await startTcpProxy(settings.KAFKA_BROKERS[0]!);
    bridge = await bridgeService().start({ config: { ...settings, KAFKA_BROKERS: [proxy.address] }, logger });
  });
  afterAll(async () => {
    await bridge?.stop();
    await proxy?.close();
    await requests?.stop();
    await producer?.disconnect();
    await mongo?.db(settings.MONGO_DB).dropDatabase().catch(() => {});
    await mongo?.close();
  });

  it('is alive and unready naming Kafka; ready once Kafka is reachable, then notifies what waited', async () => {
    // The marker: MongoDB is connected (it comes first) and Kafka has been tried and refused.
    const { healthz, readyz } = await probesWhileAway(bridge.url!, proxy);
    expect(healthz.body).toEqual({ status: 'ok' });
    expect(readyz.status).toBe(503);
    expect(readyz.body).toEqual({
      status: 'unready',
      checks: { mongo: 'ok', kafka: expect.stringMatching(/^error: connecting to kafka/), started: expect.stringMatching(/^error: connecting to kafka/) },
    });
    for (const userId of ['ann', 'ben']) {
      const { key, value } = usersTopic.encode({ type: 'device.registered', data: { userId, subscriptionId: `${userId}-phone`, platform: 'ios' } });
      await producer.send(settings.USERS_TOPIC, [{ key, value }]);
    }
    const data = { searchId: 's-away', offerId: 'o-away', searchOwnerId: 'ann', offerOwnerId: 'ben', distanceM: 300, searchVersion: 1, offerVersion: 1 };
    const { key, value } = matchesTopic.encode({ type: 'match.found', data });
    await producer.send(settings.MATCHES_TOPIC, [{ key, value }]);

    proxy.forward();
    expect(await untilReady(bridge.url!, 90_000)).toEqual({ status: 'ready', checks: { mongo: 'ok', kafka: 'ok', started: 'ok' } });
    await requests.waitForCount(2, 30_000);
    expect(requests.values<BridgePushRequest>().map((r) => r.args.userIds[0]).sort()).toEqual(['ann', 'ben']);
  }, 150_000);
});
