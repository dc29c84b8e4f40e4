/**
 * Kafka client benchmark: the same records produced and consumed with kafkajs and with
 * @platformatic/kafka, against the local broker, side by side in one run. Producing goes through
 * @pushtech/kafka's `createProducer` with each client (as the services produce); consuming is
 * kafkajs through @pushtech/kafka next to @platformatic/kafka's own consumer.
 *
 *   npm run bench:kafka [-- --records 200000 --batch 1000 --rounds 2]
 *
 * Records: enriched tracker events as the kafkastore writes them to `events` (~300-byte JSON,
 * keyed by user), on a topic made like `events` (6 partitions), sent in batches of `--batch`
 * (the kafkastore's BATCH_MAX_EVENTS), each send awaited, idempotent, acks=all, no compression.
 * Consuming: a new group reads the topic from its start with commits on, as the services do;
 * timed from the consumer's start (its group join included, as in a restart catching up) to the
 * last record: from the first record on would flatter a client that fetches during the join.
 * Rounds alternate which client goes first; each figure is the best round. Next to the rates,
 * this process's CPU time per record (µs), which a busy machine disturbs less. Topics and groups
 * are deleted at the end. Needs the local Kafka (KAFKA_BROKERS; default the stack's).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Consumer as PlatformaticConsumer, MessagesStreamFallbackModes, MessagesStreamModes } from '@platformatic/kafka';
import { eventsTopic, topics } from '@pushtech/contracts';
import { createKafka, createProducer, ensureTopics, runConsumer, type Kafka, type OutgoingMessage, type Producer, type ProducerClient } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { stackAddresses } from '@pushtech/testing';
import { createEnricher } from '../services/kafkastore/src/enrich.ts';
import { trackedEvents } from '../services/kafkastore/src/fixtures/traffic.ts';

/** Figure name → value. */
export type Figures = Record<string, number>;

interface ClientUnderTest {
  name: ProducerClient;
  /** Seconds to send every record, `batch` at a time. */
  produce(topic: string, records: OutgoingMessage[], batch: number): Promise<number>;
  /** Seconds from the start (joining a new group) to the `count`th record consumed. */
  consume(topic: string, groupId: string, count: number): Promise<number>;
  close(): Promise<void>;
}

const logger = createLogger('bench-kafka-client', 'error');

/** Seconds from now to the `count`th record seen. */
function untilCount(count: number): { seen(n: number): void; done: Promise<number> } {
  const started = performance.now();
  let received = 0;
  let finish!: (seconds: number) => void;
  const done = new Promise<number>((resolve) => { finish = resolve; });
  return {
    seen(n) {
      received += n;
      if (received >= count) finish((performance.now() - started) / 1000);
    },
    done,
  };
}

/** Seconds for `producer` to send `records`, `batch` at a time, each send awaited (as the kafkastore sends). */
async function produceWith(producer: Producer, topic: string, records: OutgoingMessage[], batch: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < records.length; i += batch) await producer.send(topic, records.slice(i, i + batch));
  return (performance.now() - started) / 1000;
}

async function kafkajsClient(kafka: Kafka): Promise<ClientUnderTest> {
  const producer = await createProducer(kafka, { client: 'kafkajs' });
  return {
    name: 'kafkajs',
    produce: (topic, records, batch) => produceWith(producer, topic, records, batch),
    async consume(topic, groupId, count) {
      const timing = untilCount(count);
      const consumer = await runConsumer({
        kafka, logger, groupId, topics: [topic], fromBeginning: true, maxWaitMs: 500,
        eachBatch: async (messages) => { timing.seen(messages.length); },
      });
      try {
        return await timing.done;
      } finally {
        await consumer.stop();
      }
    },
    close: () => producer.disconnect(),
  };
}

async function platformaticClient(kafka: Kafka, brokers: string[]): Promise<ClientUnderTest> {
  const producer = await createProducer(kafka, { client: 'platformatic' });
  return {
    name: 'platformatic',
    produce: (topic, records, batch) => produceWith(producer, topic, records, batch),
    async consume(topic, groupId, count) {
      const timing = untilCount(count);
      const consumer = new PlatformaticConsumer({ clientId: 'bench-kafka-client', bootstrapBrokers: brokers, groupId, maxWaitTime: 500 });
      try {
        const stream = await consumer.consume({
          topics: [topic], mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamFallbackModes.EARLIEST, autocommit: true,
        });
        stream.on('data', () => timing.seen(1));
        const seconds = await timing.done;
        await stream.close();
        return seconds;
      } finally {
        await consumer.close(true);
      }
    },
    close: () => producer.disconnect(),
  };
}

function cpuPerRecord(used: NodeJS.CpuUsage, records: number): number {
  return Number(((used.user + used.system) / records).toFixed(1));
}

/** Values as Buffers, so that neither client's figure includes encoding strings. */
function makeRecords(count: number): OutgoingMessage[] {
  const enrich = createEnricher();
  return trackedEvents(count, 42).map((event) => {
    const record = eventsTopic.encode(enrich(event));
    return { ...record, value: Buffer.from(record.value) };
  });
}

export async function benchKafkaClients(options: { records?: number; batch?: number; rounds?: number; kafkaBrokers?: string[]; log?: (line: string) => void } = {}): Promise<Figures> {
  const count = options.records ?? 200_000;
  const batch = options.batch ?? 1_000;
  const rounds = options.rounds ?? 2;
  const log = options.log ?? (() => {});
  const brokers = options.kafkaBrokers ?? stackAddresses().kafkaBrokers;
  const kafka = createKafka({ clientId: 'bench-kafka-client', brokers, logger });
  const created: string[] = [];
  const groups: string[] = [];
  const clients = [await kafkajsClient(kafka), await platformaticClient(kafka, brokers)];
  const best = new Map(clients.map((c) => [c.name, { produce: 0, consume: 0, produceCpu: Infinity, consumeCpu: Infinity }]));
  const admin = kafka.admin();
  await admin.connect();
  // Records per partition after a client's produce: the same for both, or they did not write the same thing.
  const layouts = new Map<number, string>();

  const run = async (client: ClientUnderTest, records: OutgoingMessage[], measured: boolean) => {
    // Not uniqueName: a test run ending meanwhile deletes the topics so named that are younger than it.
    const topic = `bench.kafka-client.${client.name}.${randomBytes(6).toString('hex')}`;
    const groupId = `${topic}.group`;
    created.push(topic);
    groups.push(groupId);
    await ensureTopics(kafka, [{ ...topics.events, name: topic, retentionMs: 3_600_000 }]);
    // CPU time of this process per record: steadier than rates on a machine shared with other work.
    let cpu = process.cpuUsage();
    const produceSeconds = await client.produce(topic, records, batch);
    const produceCpu = cpuPerRecord(process.cpuUsage(cpu), records.length);
    const layout = JSON.stringify((await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => p.high));
    const before = layouts.get(records.length) ?? layout;
    if (layout !== before) throw new Error(`${client.name} wrote ${layout} records per partition, the other client ${before}`);
    layouts.set(records.length, layout);
    cpu = process.cpuUsage();
    const consumeSeconds = await client.consume(topic, groupId, records.length);
    const consumeCpu = cpuPerRecord(process.cpuUsage(cpu), records.length);
    if (!measured) return;
    const produce = Math.round(records.length / produceSeconds);
    const consume = Math.round(records.length / consumeSeconds);
    log(`${client.name.padEnd(12)} produce ${String(produce).padStart(7)} records/s (${produceSeconds.toFixed(2)} s, ${produceCpu} µs CPU/record)   `
      + `consume ${String(consume).padStart(7)} records/s (${consumeSeconds.toFixed(2)} s, ${consumeCpu} µs CPU/record)`);
    const figures = best.get(client.name)!;
    figures.produce = Math.max(figures.produce, produce);
    figures.consume = Math.max(figures.consume, consume);
    figures.produceCpu = Math.min(figures.produceCpu, produceCpu);
    figures.consumeCpu = Math.min(figures.consumeCpu, consumeCpu);
  };

  try {
    const records = makeRecords(count);
    const bytes = Math.round(records.reduce((sum, r) => sum + r.value.length, 0) / count);
    log(`${count} records of ~${bytes} bytes (enriched events, as on \`events\`), batches of ${batch}, ${rounds} rounds`);
    // Warm-up: JIT, connections, the broker's caches.
    const warm = makeRecords(Math.min(10_000, count));
    for (const client of clients) await run(client, warm, false);
    for (let round = 0; round < rounds; round++) {
      for (const client of round % 2 === 0 ? clients : [...clients].reverse()) await run(client, records, true);
    }
    const kafkajs = best.get('kafkajs')!;
    const platformatic = best.get('platformatic')!;
    return {
      kafka_kafkajs_produce_records_per_s: kafkajs.produce,
      kafka_platformatic_produce_records_per_s: platformatic.produce,
      kafka_kafkajs_consume_records_per_s: kafkajs.consume,
      kafka_platformatic_consume_records_per_s: platformatic.consume,
      kafka_platformatic_vs_kafkajs_produce_ratio: Number((platformatic.produce / kafkajs.produce).toFixed(2)),
      kafka_platformatic_vs_kafkajs_consume_ratio: Number((platformatic.consume / kafkajs.consume).toFixed(2)),
      kafka_kafkajs_produce_cpu_us_per_record: kafkajs.produceCpu,
      kafka_platformatic_produce_cpu_us_per_record: platformatic.produceCpu,
      kafka_kafkajs_consume_cpu_us_per_record: kafkajs.consumeCpu,
      kafka_platformatic_consume_cpu_us_per_record: platformatic.consumeCpu,
      kafka_bench_records: count,
      kafka_bench_record_bytes: bytes,
      kafka_bench_batch: batch,
    };
  } finally {
    for (const client of clients) await client.close().catch(() => {});
    await admin.deleteTopics({ topics: created }).catch(() => {});
    await admin.deleteGroups(groups).catch(() => {});
    await admin.disconnect();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { records: { type: 'string' }, batch: { type: 'string' }, rounds: { type: 'string' } } });
  const figures = await benchKafkaClients({
    records: values.records ? Number(values.records) : undefined,
    batch: values.batch ? Number(values.batch) : undefined,
    rounds: values.rounds ? Number(values.rounds) : undefined,
    log: (line) => console.log(line),
  });
  for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value}`);
}
