import { describe, expect, it } from 'vitest';
import { produceRequests } from './records.ts';

const message = (n: number, bytes: number) => ({ key: `k${n}`, value: 'x'.repeat(bytes) });

describe('produceRequests', () => {
  it('keeps a batch of small records in one request for both topics', () => {
    const events = [message(1, 100), message(2, 100)];
    const dlq = [message(3, 100)];
    expect(produceRequests([{ topic: 'events', messages: events }, { topic: 'dlq', messages: dlq }], 10_000))
      .toEqual([[{ topic: 'events', messages: events }, { topic: 'dlq', messages: dlq }]]);
  });

  it('splits large records into requests under the limit, in order', () => {
    const events = Array.from({ length: 5 }, (_, i) => message(i, 400));
    const requests = produceRequests([{ topic: 'events', messages: events }], 1000);
    expect(requests.map((r) => r.map((t) => t.messages.map((m) => m.key)))).toEqual([[['k0', 'k1']], [['k2', 'k3']], [['k4']]]);
  });

  it('sends a record larger than the limit on its own, and nothing for an empty batch', () => {
    expect(produceRequests([{ topic: 'events', messages: [message(1, 5000)] }], 1000)).toHaveLength(1);
    expect(produceRequests([{ topic: 'events', messages: [] }], 1000)).toEqual([]);
  });
});
