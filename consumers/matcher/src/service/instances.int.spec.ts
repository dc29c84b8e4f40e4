// Two matcher instances in one group share the shards: every change of a pair is
// decided (at least once), none is missing — also across one instance leaving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Kafka, type Producer } from '@pushtech/kafka';
import { readTopic, topicLength, type TopicReader } from '@pushtech/testing';
import { createTestTopics, listingRecord, matchEvents, startTestMatcher, testKafka, testLogger, testSettings, type TestMatcher } from './test-matcher.ts';
import { foundAtTheEnd, randomWorkload } from './test-workload.ts';

const settings = testSettings();
let kafka: Kafka;
let producer: Producer;
let a: TestMatcher;
let b: TestMatcher | undefined;
let matches: TopicReader;

beforeAll(async () => {
  kafka = testKafka(settings);
  await createTestTopics(kafka, settings);
  producer = await createProducer(kafka);
  matches = await readTopic(kafka, settings.MATCHES_TOPIC, testLogger);
  [a, b] = await Promise.all([startTestMatcher(settings, 'a'), startTestMatcher(settings, 'b')]);
});

afterAll(async () => {
  await matches?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
  await producer?.disconnect();
});

const total = () => topicLength(kafka, settings.MATCHES_TOPIC);

/** Writes each round's events concurrently (one request per listing), the rounds one after the other. */
async function write(rounds: Parameters<typeof listingRecord>[0][][]): Promise<void> {
  for (const round of rounds) {
    await Promise.all(round.map((event) => producer.send(settings.LISTINGS_TOPIC, [listingRecord(event)])));
  }
}

describe('two matcher instances', () => {
  const workload = randomWorkload({ seed: 5, listings: 60, rounds: 80, perRound: 8 });

  it('split the shards between them', async () => {
    await expect.poll(() => a.owned().size + b!.owned().size, { timeout: 30_000 }).toBe(6);
    expect(a.owned().size).toBeGreaterThan(0);
    expect(b!.owned().size).toBeGreaterThan(0);
    expect([...a.owned()].filter((s) => b!.owned().has(s))).toEqual([]);
    await Promise.all([a.settled(), b!.settled()]); // the reconciliations of the assignment are done
  });

  it('decide every change of every pair once between them, and none is missing', async () => {
    await write(workload.rounds.slice(0, 50));
    await Promise.all([a.settled(), b!.settled()]);
    const count = await total();
    await matches.waitForCount(count);
    const decided = matchEvents(matches.messages.map((m) => m.value));
    expect(a.decisionsSent()).toBeGreaterThan(0);
    expect(b!.decisionsSent()).toBeGreaterThan(0);
    // Each change once: a pair's decisions alternate, starting with found (no duplicates in steady state).
    const last = new Map<string, string>();
    for (const event of decided) {
      const pair = `${event.data.searchId}|${event.data.offerId}`;
      expect(event.type, pair).not.toBe(last.get(pair) ?? 'match.lost');
      last.set(pair, event.type);
    }
    // The state the decisions end in is what the match rule says of the listings written so far.
    const partial = randomWorkload({ seed: 5, listings: 60, rounds: 49, perRound: 8 });
    expect(partial.rounds).toEqual(workload.rounds.slice(0, 50));
    expect(foundAtTheEnd(decided)).toEqual(partial.expected(Date.now()));
  }, 120_000);

  it('keep deciding when one of them leaves while listings change: the other takes its shards over', async () => {
    const writing = write(workload.rounds.slice(50));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await b!.stop();
    b = undefined;
    await writing;
    await expect.poll(() => a.owned().size, { timeout: 30_000 }).toBe(6);
    await a.settled();
    await matches.waitForCount(await total());
    const expected = workload.expected(Date.now());
    expect(expected.size).toBeGreaterThan(5); // not vacuous
    expect(foundAtTheEnd(matchEvents(matches.messages.map((m) => m.value)))).toEqual(expected);
  }, 120_000);
});
