// The local demo: publishes a few envelopes to Kafka, consumes them in a
// group, stores them in Mongo and prints each step.
import { hostPorts, int, loadConfigOrExit, url } from '@pushtech/config';
import { createEnvelope, type Envelope } from '@pushtech/events';
import { createKafka, createProducer, days, ensureTopics, parseJson, runConsumer } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { connectMongo, ensureIndexes, isDuplicateKey } from '@pushtech/mongo';

const config = loadConfigOrExit({
  KAFKA_BROKERS: hostPorts({ default: ['127.0.0.1:19092'] }),
  MONGO_URL: url({ protocols: ['mongodb:', 'mongodb+srv:'], default: 'mongodb://127.0.0.1:27117' }),
  DEMO_EVENTS: int({ min: 1, max: 10_000, default: 5 }),
});

const TOPIC = 'demo.events';
const logger = createLogger('demo', 'warn');
const say = (line: string) => process.stdout.write(`${line}\n`);

const kafka = createKafka({ clientId: 'demo', brokers: config.KAFKA_BROKERS, logger });
await ensureTopics(kafka, [{ name: TOPIC, partitions: 1, retentionMs: days(1) }]);
const mongo = await connectMongo(config.MONGO_URL, { appName: 'demo' });
const events = mongo.db('pushtech').collection<Envelope>('demo_events');
await ensureIndexes(mongo.db('pushtech'), [{ collection: 'demo_events', key: { id: 1 }, name: 'id_unique', options: { unique: true } }]);

const producer = await createProducer(kafka);
const sent = Array.from({ length: config.DEMO_EVENTS }, (_, i) =>
  createEnvelope({ source: 'pushtech/demo', type: 'demo.hello', subject: `user-${i % 3}`, data: { n: i } }));
await producer.send(TOPIC, sent.map((e) => ({ key: e.subject ?? e.id, value: JSON.stringify(e) })));
say(`produced ${sent.length} envelopes to Kafka topic ${TOPIC}`);

const expected = new Set(sent.map((e) => e.id));
let finish!: () => void;
const allStored = new Promise<void>((resolve) => { finish = resolve; });
const consumer = await runConsumer({
  kafka,
  logger,
  groupId: 'demo',
  topics: [TOPIC],
  fromBeginning: true,
  eachMessage: async (message) => {
    const envelope = parseJson<Envelope>(message);
    await events.insertOne({ ...envelope }).catch((err: unknown) => { if (!isDuplicateKey(err)) throw err; });
    if (expected.delete(envelope.id)) {
      say(`consumed ${envelope.type} ${envelope.id} (partition ${message.partition}, offset ${message.offset}) → stored in Mongo`);
    }
    if (expected.size === 0) finish();
  },
});
await allStored;
await consumer.stop();
await producer.disconnect();
say(`Mongo pushtech.demo_events now holds ${await events.countDocuments()} envelopes`);
await mongo.close();
