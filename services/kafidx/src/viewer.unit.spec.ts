// The viewer's queue without Kafka or a network: a fake socket whose buffer the test fills and empties.
import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { createLogger } from '@pushtech/logging';
import { createKafidxMetrics } from './kafidx-metrics.ts';
import type { ViewedMessage } from './message-filter.ts';
import { attachViewer, type TailRequest, type Viewer } from './viewer.ts';

class FakeSocket extends EventEmitter {
  readyState = 1; // OPEN
  bufferedAmount = 0;
  sent: { kind: string; [k: string]: unknown }[] = [];
  send(data: string) {
    this.sent.push(JSON.parse(data) as { kind: string });
  }
  frames(kind: string) {
    return this.sent.filter((f) => f.kind === kind);
  }
}

const message = (n: number): ViewedMessage => ({ topic: 't', partition: 0, offset: String(n), timestamp: n, key: null, value: { n }, raw: `{"n":${n}}` });
const batch = (from: number, count: number) => Array.from({ length: count }, (_, i) => message(from + i));

let viewers: Viewer[] = [];
afterEach(async () => {
  await Promise.all(viewers.map((v) => v.close()));
  viewers = [];
});

async function subscribed(options: { maxQueue: number; roomWaitMs: number }) {
  const socket = new FakeSocket();
  const registry = new Registry();
  const metrics = createKafidxMetrics(registry);
  let tail: TailRequest | undefined;
  const viewer = attachViewer({
    socket: socket as unknown as WebSocket,
    openTail: async (request) => {
      tail = request;
      return { groupId: 'fake', stop: async () => {} };
    },
    existingTopics: async () => new Set(['t']),
    maxQueue: options.maxQueue,
    maxBufferedBytes: 1000,
    roomWaitMs: options.roomWaitMs,
    statsIntervalMs: 60_000,
    metrics,
    logger: createLogger('viewer-test', 'silent'),
  });
  viewers.push(viewer);
  socket.emit('message', Buffer.from(JSON.stringify({ op: 'subscribe', topics: ['t'] })), false);
  await expect.poll(() => socket.frames('subscribed').length).toBe(1);
  const dropped = async () => (await registry.getSingleMetric('kafidx_messages_dropped_total')!.get()).values;
  return { socket, offer: (messages: ViewedMessage[]) => tail!.onMessages(messages, true), dropped };
}

describe('viewer queue', () => {
  it('a socket that keeps up gets every message at once', async () => {
    const { socket, offer } = await subscribed({ maxQueue: 3, roomWaitMs: 10_000 });
    await offer(batch(0, 10));
    expect(socket.frames('message').map((f) => f.offset)).toEqual(batch(0, 10).map((m) => m.offset));
  });

  it('a stuck socket: after waiting roomWaitMs, the oldest are dropped and counted', async () => {
    const { socket, offer, dropped } = await subscribed({ maxQueue: 3, roomWaitMs: 20 });
    socket.bufferedAmount = 5000; // over maxBufferedBytes: nothing more is written
    await offer(batch(0, 10));
    expect(socket.frames('message')).toEqual([]);
    expect(await dropped()).toEqual([{ labels: { reason: 'slow_client' }, value: 7 }]);
    socket.bufferedAmount = 0;
    await expect.poll(() => socket.frames('message').map((f) => f.offset)).toEqual(['7', '8', '9']);
  });

  it('a burst waits for a socket that drains within roomWaitMs: nothing is dropped', async () => {
    const { socket, offer, dropped } = await subscribed({ maxQueue: 3, roomWaitMs: 1_000 });
    vi.useFakeTimers();
    try {
      socket.bufferedAmount = 5000;
      const offered = offer(batch(0, 8));
      await vi.advanceTimersByTimeAsync(900);
      expect(socket.frames('message')).toEqual([]);
      socket.bufferedAmount = 0; // drained 900 ms into the 1,000 ms wait
      await vi.advanceTimersByTimeAsync(50);
      await offered;
      expect(socket.frames('message').map((f) => f.offset)).toEqual(batch(0, 8).map((m) => m.offset));
      expect(await dropped()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('while paused nothing is sent and nothing waits: the queue keeps the newest', async () => {
    const { socket, offer, dropped } = await subscribed({ maxQueue: 3, roomWaitMs: 30_000 });
    socket.emit('message', Buffer.from('{"op":"pause"}'), false);
    await expect.poll(() => socket.frames('paused').length).toBe(1);
    await offer(batch(0, 5));
    expect(socket.frames('message')).toEqual([]);
    expect(await dropped()).toEqual([{ labels: { reason: 'paused' }, value: 2 }]);
    socket.emit('message', Buffer.from('{"op":"resume"}'), false);
    await expect.poll(() => socket.frames('message').map((f) => f.offset)).toEqual(['2', '3', '4']);
  });
});
