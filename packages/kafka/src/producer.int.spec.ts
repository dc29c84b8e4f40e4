// The producer's guarantees, the same on both clients: where messages go (Kafka's Java
// partitioner, an explicit partition), what is written (headers, timestamps, no key, gzip), what
// a send answers (partition, base offset, log append time), and how it fails (our errors, a
// broker down at connect or away while sending, disconnect with sends in flight).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@pushtech/logging';
import { stackAddresses, startPrivateKafka, startTcpProxy, topicEnds, uniqueName, waitFor, type PrivateServer } from '@pushtech/testing';
import {
  createKafka, createProducer, ensureTopics, KafkaConnectError, KafkaSendError, producerClients, readRange,
  type ConsumedMessage, type Kafka, type OutgoingMessage, type Producer, type WrittenBatch,
} from './index.ts';

const { kafkaBrokers } = stackAddresses();
const logger = createLogger('producer-test', 'silent');
const kafka = createKafka({ clientId: 'producer-test', brokers: kafkaBrokers, logger });

function numbered(from: number, count: number): OutgoingMessage[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: JSON.stringify({ n: from + i }) }));
}

async function newTopic(prefix: string, partitions: number, configs?: Record<string, string>): Promise<string> {
  const topic = uniqueName(prefix);
  await ensureTopics(kafka, [{ name: topic, partitions, retentionMs: 3_600_000, configs }]);
  return topic;
}

/** Every message of `topic` as of now, read with the consumer (kafkajs): what the producer wrote is what others read. */
async function readAll(on: Kafka, topic: string): Promise<ConsumedMessage[]> {
  const read: ConsumedMessage[] = [];
  await readRange({ kafka: on, logger, topic, from: new Map(), to: await topicEnds(on, topic), each: (m) => { read.push(...m); } });
  return read.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

const failure = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => { throw new Error('expected a rejection'); }, (err: unknown) => err);

describe.each(producerClients)('producer on %s', (client) => {
  let producer: Producer;
  beforeAll(async () => {
    producer = await createProducer(kafka, { client });
  });
  afterAll(() => producer?.disconnect());

  it('puts a key in the partition Kafka\'s Java client picks: murmur2, positive, modulo the partitions (the matcher\'s shards depend on it)', async () => {
    const topic = await newTopic('partitioner', 6);
    // Hashes of Kafka's Java client (Utils.murmur2) → (hash & 0x7fffffff) % 6; an unsigned
    // hash (murmur2 >>> 0, @platformatic/kafka's default) puts the first five elsewhere.
    const pinned: [string, number][] = [
      ['21', 0], ['foobar', 0], ['a-little-bit-long-string', 2], ['a-little-bit-longer-string', 5],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', 5], ['abc', 3],
    ];
    const written = [];
    for (const [key] of pinned) written.push(await producer.send(topic, [{ key, value: key }]));
    expect(written.map((w) => w.map((b) => b.partition))).toEqual(pinned.map(([, partition]) => [partition]));
  });

  it('writes what it is given (explicit partition, headers with several values for a name, timestamps, no key) and answers where it went', async () => {
    const topic = await newTopic('written', 3);
    const t0 = Date.UTC(2025, 0, 1);
    const messages: OutgoingMessage[] = [
      { key: 'a', value: 'first', partition: 2, timestamp: String(t0), headers: { trace: 'x', tag: ['one', Buffer.from('two')] } },
      { key: null, value: Buffer.from('no key'), partition: 2, timestamp: String(t0 + 1) },
      { key: 'c', value: 'third', partition: 0, timestamp: String(t0 + 2) },
    ];
    const where = (written: WrittenBatch[]) => written.map((w) => [w.topic, w.partition, w.baseOffset]).sort();
    expect(where(await producer.send(topic, messages))).toEqual([[topic, 0, 0], [topic, 2, 0]]);
    // The next send to a partition starts where the first ended.
    expect(where(await producer.send(topic, [{ key: 'd', value: 'fourth', partition: 2 }]))).toEqual([[topic, 2, 2]]);

    const read = await readAll(kafka, topic);
    expect(read.map((m) => [m.partition, m.offset, m.key, m.value?.toString(), m.timestamp])).toEqual([
      [0, '0', 'c', 'third', t0 + 2],
      [2, '0', 'a', 'first', t0],
      [2, '1', null, 'no key', t0 + 1],
      [2, '2', 'd', 'fourth', expect.any(Number)],
    ]);
    const headers = read[1]!.headers!;
    expect([headers.trace?.toString(), (headers.tag as Buffer[]).map(String)]).toEqual(['x', ['one', 'two']]);
  }, 60_000);

  it('sendBatch: messages for several topics in one call, an answer per partition; empty batches are skipped', async () => {
    const [first, second] = [await newTopic('batch-a', 1), await newTopic('batch-b', 1)];
    const written = await producer.sendBatch([
      { topic: first, messages: numbered(0, 3) },
      { topic: second, messages: numbered(3, 2) },
      { topic: first, messages: [] },
    ]);
    expect(written.map((w) => [w.topic, w.partition, w.baseOffset]).sort()).toEqual([[first, 0, 0], [second, 0, 0]].sort());
    expect(await producer.sendBatch([{ topic: first, messages: [] }])).toEqual([]);
    expect(await producer.send(first, [])).toEqual([]);
    expect((await readAll(kafka, second)).map((m) => m.key)).toEqual(['k3', 'k4']);
  }, 60_000);

  it('answers the broker\'s log append time on a LogAppendTime topic', async () => {
    const topic = await newTopic('append-time', 2, { 'message.timestamp.type': 'LogAppendTime' });
    const before = Date.now();
    const written = await producer.send(topic, [{ key: null, value: 'x', partition: 0 }, { key: null, value: 'y', partition: 1 }]);
    const after = Date.now();
    expect(written).toHaveLength(2);
    for (const w of written) {
      expect(w.logAppendTime).toBeGreaterThanOrEqual(before - 1_000); // the broker's clock, the same machine's
      expect(w.logAppendTime).toBeLessThanOrEqual(after + 1_000);
    }
    const read = await readAll(kafka, topic);
    expect(read.map((m) => m.timestamp).sort()).toEqual(written.map((w) => w.logAppendTime).sort());
  }, 60_000);

  it('compression: gzip batches read back the same', async () => {
    const topic = await newTopic('gzip', 2);
    const gzip = await createProducer(kafka, { client, compression: true });
    try {
      const messages = numbered(0, 200).map((m) => ({ ...m, value: `${m.value as string}${' compressible'.repeat(20)}` }));
      await gzip.send(topic, messages);
      const read = await readAll(kafka, topic);
      expect(read.map((m) => m.value!.toString()).sort()).toEqual(messages.map((m) => m.value).sort());
    } finally {
      await gzip.disconnect();
    }
  }, 60_000);

  it('a send Kafka refuses rejects with KafkaSendError (name starting with Kafka: storage answers 503), the client\'s error as cause', async () => {
    const err = await failure(producer.send(uniqueName('undeclared'), numbered(0, 1)));
    expect(err).toBeInstanceOf(KafkaSendError);
    expect(err).toMatchObject({ name: 'KafkaSendError', message: expect.stringMatching(/^sending 1 messages to undeclared\S* failed: /) });
    expect((err as KafkaSendError).cause).toBeInstanceOf(Error);
    expect(typeof (err as KafkaSendError).retriable).toBe('boolean');
  }, 60_000);

  it('disconnect with sends in flight: each of them settles first (here: all written), then later sends are refused', async () => {
    const topic = await newTopic('disconnect', 3);
    const own = await createProducer(kafka, { client });
    const sends = Array.from({ length: 5 }, (_, i) => own.send(topic, numbered(i * 200, 200)));
    await own.disconnect();
    const settled = await Promise.allSettled(sends);
    expect(settled.map((s) => (s.status === 'rejected' ? `${s.reason} ← ${(s.reason as Error).cause}` : s.status))).toEqual(Array(5).fill('fulfilled'));
    expect(await failure(own.send(topic, numbered(0, 1)))).toMatchObject({ name: 'KafkaSendError', retriable: false });
    await own.disconnect(); // again: nothing happens
    expect((await readAll(kafka, topic)).length).toBe(1_000);
  }, 60_000);

  it('a broker that is down at createProducer: the client tries (with the handle\'s retries), then KafkaConnectError', async () => {
    const proxy = await startTcpProxy(kafkaBrokers[0]!); // resets every connection: "down"
    try {
      const away = createKafka({ clientId: 'producer-test-down', brokers: [proxy.address], logger, logLevel: 'none', retries: 2 });
      const err = await failure(createProducer(away, { client }));
      expect(err).toBeInstanceOf(KafkaConnectError);
      expect(err).toMatchObject({ name: 'KafkaConnectError', retriable: true, message: expect.stringContaining(proxy.address) });
      expect(proxy.refused).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe('both clients', () => {
  it('put every key in the same partition', async () => {
    const topic = await newTopic('same-partitions', 6);
    const keys = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? crypto.randomUUID() : i % 3 === 1 ? `user-${i}` : `ü-€-${i}-😀`));
    for (const client of producerClients) {
      const producer = await createProducer(kafka, { client });
      await producer.send(topic, keys.map((key) => ({ key, value: client })));
      await producer.disconnect();
    }
    const partitions = new Map<string, Set<number>>();
    for (const m of await readAll(kafka, topic)) partitions.set(m.key!, (partitions.get(m.key!) ?? new Set()).add(m.partition));
    expect(partitions.size).toBe(keys.length);
    expect([...partitions.values()].filter((p) => p.size !== 1)).toEqual([]);
    expect(new Set([...partitions.values()].map((p) => [...p][0])).size).toBe(6);
  }, 60_000);
});

describe('while the broker is away', () => {
  let server: PrivateServer;
  beforeAll(async () => {
    server = await startPrivateKafka();
  }, 180_000);
  afterAll(() => server?.close(), 60_000);

  it('a send rejects with a retriable KafkaSendError; once the broker is back the same producer sends again', async () => {
    const away = createKafka({ clientId: 'producer-test-outage', brokers: [server.address], logger, logLevel: 'none', retries: 2 });
    const topic = uniqueName('outage');
    await ensureTopics(away, [{ name: topic, partitions: 2, retentionMs: 3_600_000 }]);
    const producers = await Promise.all(producerClients.map((client) => createProducer(away, { client })));
    try {
      for (const producer of producers) await producer.send(topic, numbered(0, 10));

      await server.stop();
      for (const producer of producers) {
        const err = await failure(producer.send(topic, numbered(10, 10)));
        expect(err).toBeInstanceOf(KafkaSendError);
        expect(err).toMatchObject({ retriable: true, message: expect.stringMatching(/^sending 10 messages to outage\S* failed: /) });
      }

      await server.start();
      for (const [i, producer] of producers.entries()) {
        await waitFor(() => producer.send(topic, numbered(20, 10)).then(() => true, () => undefined), `${producerClients[i]} sending again`, 90_000, 500);
      }
      const keys = new Set((await readAll(away, topic)).map((m) => m.key));
      for (const key of ['k0', 'k9', 'k20', 'k29']) expect(keys).toContain(key);
    } finally {
      await Promise.all(producers.map((p) => p.disconnect()));
    }
  }, 240_000);
});
