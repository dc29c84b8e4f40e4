import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@pushtech/logging';
import { stackAddresses, topicEnds, uniqueName, waitFor } from '@pushtech/testing';
import { kafkajsOf } from './client.ts';
import {
  connectKafka, createKafka, createProducer, ensureTopics, parseJson, readRange, retryRetriable, runAckConsumer, runConsumer, startTail,
  type AckConsumer, type AckedMessage, type Assignment, type ConsumedMessage, type Producer,
} from './index.ts';

const { kafkaBrokers } = stackAddresses();
const logger = createLogger('kafka-test', 'silent');
const kafka = createKafka({ clientId: 'kafka-test', brokers: kafkaBrokers, logger });
let producer: Producer;

beforeAll(async () => {
  producer = await createProducer(kafka);
});
afterAll(async () => {
  await producer.disconnect();
});

async function committedOffset(groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Number(result!.partitions[0]!.offset);
  } finally {
    await admin.disconnect();
  }
}

function numbered(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: JSON.stringify({ n: from + i }) }));
}

describe('topics', () => {
  it('creates declared topics with their partitions and retention, and a second run changes nothing', async () => {
    const name = uniqueName('topic');
    const spec = { name, partitions: 3, retentionMs: 3_600_000 };
    await ensureTopics(kafka, [spec]);
    await ensureTopics(kafka, [spec]);
    const admin = kafkajsOf(kafka).admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [name] });
      expect(metadata.topics[0]!.partitions).toHaveLength(3);
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name, configNames: ['retention.ms'] }] });
      expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('3600000');
    } finally {
      await admin.disconnect();
    }
  });

  // A busy broker answers "does not host this topic-partition" for a moment after creating a
  // topic; kafkajs' own wait for leaders gave up on it (a CI run failed so).
  it('on a busy machine, ensureTopics returns only once the new topics have leaders, and does not fail', async () => {
    const burners = Array.from({ length: 3 }, () => new Worker('for (;;);', { eval: true }));
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (let round = 0; round < 25; round++) {
        const names = Array.from({ length: 4 }, () => uniqueName('busy'));
        await Promise.all(names.map((name) => ensureTopics(kafka, [{ name, partitions: 3, retentionMs: 3_600_000 }])));
        const metadata = await admin.fetchTopicMetadata({ topics: names });
        const leaders = metadata.topics.flatMap((topic) => topic.partitions.map((partition) => partition.leader));
        expect(leaders).toHaveLength(12);
        expect(leaders.every((leader) => leader >= 0)).toBe(true);
      }
    } finally {
      await admin.disconnect();
      await Promise.all(burners.map((burner) => burner.terminate()));
    }
  }, 120_000);

  it('the broker does not create topics on its own', async () => {
    await expect(producer.send(uniqueName('undeclared'), numbered(0, 1))).rejects.toThrow();
  }, 60_000);
});

describe('a service\'s connection', () => {
  it('makes its topics and connects a producer; ping answers while the broker does; close disconnects', async () => {
    const name = uniqueName('connection');
    const connection = await connectKafka({ clientId: 'kafka-test', brokers: kafkaBrokers, logger, topics: [{ name, partitions: 2, retentionMs: 3_600_000 }] });
    try {
      expect(await connection.ping()).toMatchObject({ brokers: [expect.objectContaining({ nodeId: expect.any(Number) })] });
      expect((await retryRetriable(() => connection.admin.fetchTopicOffsets(name))).map((p) => p.partition).sort()).toEqual([0, 1]);
      expect(await connection.producer.send(name, [{ key: 'k', value: 'v', partition: 1 }])).toEqual([expect.objectContaining({ topic: name, partition: 1, baseOffset: 0 })]);
    } finally {
      await connection.close();
    }
  });
});

describe('consumer group', () => {
  it('consumes, commits, and a restarted consumer resumes after the committed offset', async () => {
    const topic = uniqueName('resume');
    const groupId = uniqueName('group');
    await ensureTopics(kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    await producer.send(topic, numbered(0, 10));

    const seen: ConsumedMessage[] = [];
    const first = await runConsumer({ kafka, logger, groupId, topics: [topic], fromBeginning: true, eachBatch: async (messages) => { seen.push(...messages); } });
    await waitFor(() => (seen.length >= 10 ? true : undefined), 'the first 10 messages');
    await first.stop();
    expect(seen.map((m) => parseJson<{ n: number }>(m).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen[3]!.key).toBe('k3');
    expect(await committedOffset(groupId, topic)).toBe(10);

    await producer.send(topic, numbered(10, 5));
    const resumed: number[] = [];
    const second = await runConsumer({ kafka, logger, groupId, topics: [topic], fromBeginning: true, eachMessage: async (m) => { resumed.push(parseJson<{ n: number }>(m).n); } });
    await waitFor(() => (resumed.length >= 5 ? true : undefined), 'the 5 new messages');
    await second.stop();
    expect(resumed).toEqual([10, 11, 12, 13, 14]);
    expect(await committedOffset(groupId, topic)).toBe(15);
  }, 90_000);

  it('a consumer of a topic that brokers do not know yet waits for it (a new topic reaches a cluster\'s brokers one by one)', async () => {
    const topic = uniqueName('not-yet');
    const seen: number[] = [];
    const starting = runConsumer({ kafka, logger, groupId: uniqueName('group'), topics: [topic], fromBeginning: true, eachMessage: async (m) => { seen.push(parseJson<{ n: number }>(m).n); } });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await ensureTopics(kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    const consumer = await starting;
    try {
      await producer.send(topic, numbered(0, 3));
      await waitFor(() => (seen.length >= 3 ? true : undefined), 'the 3 messages');
      expect(seen).toEqual([0, 1, 2]);
    } finally {
      await consumer.stop();
    }
  }, 60_000);

  it('a new group that starts from now, once joined, sees only messages produced after it joined', async () => {
    const topic = uniqueName('fromnow');
    await ensureTopics(kafka, [{ name: topic, partitions: 3, retentionMs: 3_600_000 }]);
    await producer.send(topic, numbered(0, 5));
    const seen: number[] = [];
    const consumer = await runConsumer({
      kafka, logger, groupId: uniqueName('group'), topics: [topic], awaitJoin: true,
      eachMessage: async (m) => { seen.push(parseJson<{ n: number }>(m).n); },
    });
    await producer.send(topic, numbered(5, 5));
    await waitFor(() => (seen.length >= 5 ? true : undefined), 'the 5 new messages');
    await consumer.stop();
    expect(seen.sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9]);
  }, 60_000);

  it('partitionsConcurrently: batches of different partitions are handled at once', async () => {
    const topic = uniqueName('concurrent');
    await ensureTopics(kafka, [{ name: topic, partitions: 3, retentionMs: 3_600_000 }]);
    await producer.send(topic, numbered(0, 40)); // keys spread over both partitions
    let inProgress = 0;
    let most = 0;
    const handled = new Set<number>();
    const consumer = await runConsumer({
      kafka, logger, groupId: uniqueName('group'), topics: [topic], fromBeginning: true, partitionsConcurrently: 2,
      eachBatch: async (messages) => {
        most = Math.max(most, ++inProgress);
        await waitFor(() => (inProgress === 2 ? true : undefined), 'the other partition\'s batch', 2_000).catch(() => {});
        for (const m of messages) handled.add(parseJson<{ n: number }>(m).n);
        inProgress--;
      },
    });
    await waitFor(() => (handled.size === 40 ? true : undefined), 'every message');
    await consumer.stop();
    expect(most).toBe(2);
  }, 60_000);

  it('a handler that throws is retried, and its message is not skipped', async () => {
    const topic = uniqueName('retry');
    const groupId = uniqueName('group');
    await ensureTopics(kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    await producer.send(topic, numbered(0, 3));
    const handled: number[] = [];
    let failures = 0;
    const consumer = await runConsumer({
      kafka, logger, groupId, topics: [topic], fromBeginning: true,
      eachMessage: async (m) => {
        const { n } = parseJson<{ n: number }>(m);
        if (n === 1 && failures === 0) {
          failures++;
          throw new Error('transient');
        }
        handled.push(n);
      },
    });
    await waitFor(() => (handled.includes(2) ? true : undefined), 'message 2', 30_000);
    await consumer.stop();
    expect(failures).toBe(1);
    expect(handled).toEqual([0, 1, 2]);
  }, 60_000);

  it('SIGTERM mid-batch commits exactly the messages that were finished', async () => {
    const topic = uniqueName('sigterm');
    const groupId = uniqueName('group');
    await ensureTopics(kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    await producer.send(topic, numbered(0, 50));

    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/slow-consumer.ts', import.meta.url))], {
      env: { ...process.env, KAFKA_BROKERS: kafkaBrokers.join(','), TOPIC: topic, GROUP_ID: groupId, HANDLE_MS: '100' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const done: number[] = [];
    let signalled = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('done ')) return;
      done.push(Number(line.slice(5)));
      if (done.length === 5 && !signalled) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    // It stopped mid-batch (50 messages were fetched together), after the message in hand.
    expect(done.length).toBeGreaterThanOrEqual(5);
    expect(done.length).toBeLessThan(50);
    expect(done).toEqual(Array.from({ length: done.length }, (_, i) => i));
    expect(await committedOffset(groupId, topic)).toBe(done.length);
  }, 90_000);
});

describe('consumer group with a start time', () => {
  it('startAt: the group starts at the first message written at or after the time, whatever it had committed', async () => {
    const topic = uniqueName('startat');
    const groupId = uniqueName('group');
    await ensureTopics(kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    const t0 = Date.now() - 60_000;
    await producer.send(topic, numbered(0, 10).map((m, i) => ({ ...m, timestamp: String(t0 + i * 1_000) })));
    const all: number[] = [];
    const first = await runConsumer({ kafka, logger, groupId, topics: [topic], fromBeginning: true, eachBatch: async (messages) => { all.push(...messages.map((m) => parseJson<{ n: number }>(m).n)); } });
    await waitFor(() => (all.length >= 10 ? true : undefined), 'the 10 messages');
    await first.stop();
    expect(await committedOffset(groupId, topic)).toBe(10);

    const since: number[] = [];
    const second = await runConsumer({
      kafka, logger, groupId, topics: [topic], startAt: { timestamp: t0 + 6_000 },
      eachBatch: async (messages) => { since.push(...messages.map((m) => parseJson<{ n: number }>(m).n)); },
    });
    await waitFor(() => (since.length >= 4 ? true : undefined), 'the messages from the time on');
    await second.stop();
    expect(since).toEqual([6, 7, 8, 9]);
  }, 60_000);
});

describe('ack consumer', () => {
  const ackTopic = async (prefix: string, partitions = 1) => {
    const topic = uniqueName(prefix);
    await ensureTopics(kafka, [{ name: topic, partitions, retentionMs: 3_600_000 }]);
    return topic;
  };

  it('commits only the finished prefix: messages finished out of order never move the commit past an unfinished one, and a restart gets it again', async () => {
    const topic = await ackTopic('acks');
    const groupId = uniqueName('group');
    await producer.send(topic, numbered(0, 10));
    const taken: AckedMessage[] = [];
    const first = await runAckConsumer({ kafka, logger, groupId, topics: [topic], fromBeginning: true, commitIntervalMs: 20, take: (m) => { taken.push(m); } });
    await waitFor(() => (taken.length === 10 ? true : undefined), 'the 10 messages');
    expect(taken.map((m) => Number(m.offset))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // 5..9 finish first, then 0..2; 3 and 4 do not finish.
    for (const m of taken.slice(5)) m.ack();
    for (const m of taken.slice(0, 3)) m.ack();
    const committed = await waitFor(async () => {
      const offset = await committedOffset(groupId, topic);
      return offset >= 3 ? offset : undefined;
    }, 'a commit past 0..2');
    expect(committed).toBe(3); // committing the highest finished offset would have made it 10
    expect(first.unacked()).toBe(2);
    await first.stop();
    expect(await committedOffset(groupId, topic)).toBe(3);

    // The unfinished ones come again (and what follows them: at least once).
    const again: number[] = [];
    const second = await runAckConsumer({ kafka, logger, groupId, topics: [topic], commitIntervalMs: 20, take: (m) => { again.push(Number(m.offset)); m.ack(); } });
    await waitFor(() => (again.length >= 7 ? true : undefined), 'the messages from 3 on');
    await second.stop();
    expect(again).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(await committedOffset(groupId, topic)).toBe(10);
  }, 60_000);

  it('a refused message pauses consumption until resume(), then is offered again, in order', async () => {
    const topic = await ackTopic('refuse');
    const groupId = uniqueName('group');
    await producer.send(topic, numbered(0, 6));
    const offered: number[] = [];
    let refuse = true;
    const consumer = await runAckConsumer({
      kafka, logger, groupId, topics: [topic], fromBeginning: true, commitIntervalMs: 20,
      take(m) {
        offered.push(Number(m.offset));
        if (Number(m.offset) === 3 && refuse) return false;
        m.ack();
      },
    });
    await waitFor(() => (consumer.paused() ? true : undefined), 'paused by the refusal');
    // Messages produced while paused are not offered either.
    await producer.send(topic, numbered(6, 4));
    expect(offered).toEqual([0, 1, 2, 3]);
    refuse = false;
    consumer.resume();
    await waitFor(() => (offered.length >= 11 ? true : undefined), 'the rest');
    await consumer.stop();
    expect(offered).toEqual([0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9]);
    expect(await committedOffset(groupId, topic)).toBe(10);
  }, 60_000);

  it('maxUnacked: consumption stops at that many unfinished messages and goes on once half of them are finished', async () => {
    const topic = await ackTopic('maxunacked');
    await producer.send(topic, numbered(0, 20));
    const waiting: AckedMessage[] = [];
    let taken = 0;
    let most = 0;
    let consumer: AckConsumer | undefined;
    consumer = await runAckConsumer({
      kafka, logger, groupId: uniqueName('group'), topics: [topic], fromBeginning: true, maxUnacked: 4,
      take(m) {
        taken++;
        waiting.push(m);
        most = Math.max(most, consumer?.unacked() ?? 0);
      },
    });
    await waitFor(() => (taken === 4 ? true : undefined), '4 messages');
    expect(consumer.paused()).toBe(true);
    waiting.shift()!.ack();
    expect(consumer.paused()).toBe(true); // 3 unfinished: more than half
    waiting.shift()!.ack();
    expect(consumer.paused()).toBe(false);
    while (taken < 20) {
      await waitFor(() => (waiting.length > 0 ? true : undefined), 'a message');
      waiting.shift()!.ack();
    }
    await consumer.stop();
    expect(most).toBeLessThanOrEqual(4);
  }, 60_000);

  it('partitions moved to a member that joins come from their commit: what the first member took and did not finish comes again', async () => {
    const topic = await ackTopic('rebalance', 2);
    const groupId = uniqueName('group');
    await producer.send(topic, numbered(0, 20));
    const aTaken: AckedMessage[] = [];
    const aAssigned: Assignment[] = [];
    const aRevoked: string[] = [];
    const a = await runAckConsumer({
      kafka, logger, groupId, topics: [topic], fromBeginning: true,
      take: (m) => { aTaken.push(m); },
      onAssigned: (assignment) => { aAssigned.push(assignment); },
      onRevoked: (reason) => { aRevoked.push(reason); },
    });
    await waitFor(() => (aTaken.length === 20 ? true : undefined), 'all 20 messages in the first member');
    expect(aAssigned).toEqual([{ [topic]: [0, 1] }]);

    const bTaken: ConsumedMessage[] = [];
    const bAssigned: Assignment[] = [];
    const b = await runAckConsumer({
      kafka, logger, groupId, topics: [topic],
      take: (m) => { bTaken.push(m); m.ack(); },
      onAssigned: (assignment) => { bAssigned.push(assignment); },
    });
    await b.joined;
    await waitFor(() => (aAssigned.length >= 2 ? true : undefined), 'the first member\'s new assignment');
    expect(aRevoked).toContain('rebalancing');
    const moved = bAssigned[0]![topic]!;
    expect(moved).toHaveLength(1);
    expect(aAssigned.at(-1)![topic]).toEqual([1 - moved[0]!]);
    const expected = aTaken.filter((m) => m.partition === moved[0]).map((m) => m.offset);
    await waitFor(() => (bTaken.length >= expected.length ? true : undefined), 'the moved partition\'s messages in the second member');
    expect(bTaken.map((m) => m.offset)).toEqual(expected);

    for (const m of aTaken) m.ack(); // late for the moved partition: changes nothing there
    await a.stop();
    await b.stop();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const ends = await topicEnds(kafka, topic);
      for (const p of committed!.partitions) expect(Number(p.offset)).toBe(ends.get(p.partition));
    } finally {
      await admin.disconnect();
    }
  }, 90_000);
});

describe('reading without a group', () => {
  const toPartition = (partition: number, from: number, count: number) => numbered(from, count).map((m) => ({ ...m, partition }));

  it('a tail reads each partition from the offset given (others from their oldest), goes on with new messages, and commits nothing', async () => {
    const topic = uniqueName('tail');
    await ensureTopics(kafka, [{ name: topic, partitions: 2, retentionMs: 3_600_000 }]);
    await producer.send(topic, [...toPartition(0, 0, 5), ...toPartition(1, 5, 5)]);
    const seen = new Map<number, number[]>([[0, []], [1, []]]);
    const tail = await startTail({
      kafka, logger, id: uniqueName('tail'), from: new Map([[topic, new Map([[0, 3]])]]),
      eachBatch: ({ partition, messages }) => { seen.get(partition)!.push(...messages.map((m) => Number(m.offset))); },
    });
    await waitFor(() => (seen.get(0)!.length >= 2 && seen.get(1)!.length >= 5 ? true : undefined), 'the messages from the start offsets');
    await producer.send(topic, toPartition(0, 10, 1));
    await waitFor(() => (seen.get(0)!.length >= 3 ? true : undefined), 'the new message');
    expect(seen).toEqual(new Map([[0, [3, 4, 5]], [1, [0, 1, 2, 3, 4]]]));
    expect(tail.position()).toEqual(new Map([[topic, new Map([[0, 6], [1, 5]])]]));
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId: tail.id, topics: [topic] });
      expect(offsets!.partitions.map((p) => p.offset)).toEqual(['-1', '-1']);
    } finally {
      await admin.disconnect();
    }
    await tail.stop();
    const kafkajsAdmin = kafkajsOf(kafka).admin();
    await kafkajsAdmin.connect();
    try {
      const { groups } = await kafkajsAdmin.listGroups();
      expect(groups.map((g) => g.groupId)).not.toContain(tail.id); // the private group goes with the tail
    } finally {
      await kafkajsAdmin.disconnect();
    }
  }, 60_000);

  it('readRange reads from one set of offsets up to another, then ends', async () => {
    const topic = uniqueName('range');
    await ensureTopics(kafka, [{ name: topic, partitions: 3, retentionMs: 3_600_000 }]);
    await producer.send(topic, [...toPartition(0, 0, 10), ...toPartition(1, 10, 10), ...toPartition(2, 20, 3)]);
    const read: ConsumedMessage[] = [];
    const count = await readRange({
      kafka, logger, topic,
      from: new Map([[0, 2], [1, 0], [2, 3]]),
      to: new Map([[0, 7], [1, 4], [2, 3]]),
      each: (messages) => { read.push(...messages); },
    });
    expect(count).toBe(9);
    const byPartition = (p: number) => read.filter((m) => m.partition === p).map((m) => parseJson<{ n: number }>(m).n);
    expect(byPartition(0)).toEqual([2, 3, 4, 5, 6]);
    expect(byPartition(1)).toEqual([10, 11, 12, 13]);
    expect(byPartition(2)).toEqual([]);
  }, 60_000);
});
