/**
 * One WebSocket viewer: its commands, its subscription (a topic tail of its own),
 * its filter, and its bounded outgoing queue.
 *
 * Messages go into the viewer's queue (at most `maxQueue`) and are written only while
 * the socket's own buffer holds less than `maxBufferedBytes`. When a fetch from Kafka
 * finds the queue full, the viewer's reading waits for room at most `roomWaitMs` (so a
 * burst, or the backlog of last N, reaches a healthy browser whole); after that the
 * rest of the fetch pushes the oldest messages out, and each one is counted (`dropped`
 * in the viewer's stats, `kafidx_messages_dropped_total`, a log line). A browser that
 * does not read therefore costs its own reader at most `roomWaitMs` per fetch, and
 * nobody else anything: every viewer reads with a consumer of its own.
 */
import type { Logger } from '@pushtech/logging';
import { WebSocket, type RawData } from 'ws';
import { parseClientFrame, type ClientCommand, type ProtocolError } from './client-protocol.ts';
import type { KafidxMetrics } from './kafidx-metrics.ts';
import { compileFilter, type CompiledFilter, type MessageFilter, type ViewedMessage } from './message-filter.ts';
import { createMessageQueue } from './message-queue.ts';
import type { TopicTail } from './topic-tail.ts';

export interface TailRequest {
  topics: string[];
  last: number;
  onMessages(messages: ViewedMessage[], live: boolean): Promise<void>;
  onError(message: string): void;
}

export interface ViewerOptions {
  socket: WebSocket;
  /** Starts reading for this viewer; resolves once reading has started. */
  openTail(request: TailRequest): Promise<TopicTail>;
  /** The topics that exist now (a subscription to another one is refused). */
  existingTopics(): Promise<Set<string>>;
  maxQueue: number;
  maxBufferedBytes: number;
  /** How long one fetch may wait for room in a full queue before the overflow is dropped. */
  roomWaitMs: number;
  statsIntervalMs: number;
  metrics: KafidxMetrics;
  logger: Logger;
}

export interface Viewer {
  /** Stops reading and forgets the queue; the socket is the caller's to close. */
  close(): Promise<void>;
}

const DROP_LOG_INTERVAL_MS = 10_000;
const FLUSH_RETRY_MS = 20;
const BACKLOG_ROOM_WAIT_MS = 5_000;

export function attachViewer(options: ViewerOptions): Viewer {
  const { socket, metrics, logger, maxBufferedBytes } = options;
  const queue = createMessageQueue<ViewedMessage>(options.maxQueue);
  let topics: string[] = [];
  let filter: CompiledFilter = compileFilter({});
  let paused = false;
  let tail: TopicTail | undefined;
  // Each subscription's callbacks carry its number: messages of a replaced one are ignored.
  let subscription = 0;
  let closed = false;
  let dropped = 0;
  let droppedUnlogged = 0;
  let lastDropLog = 0;
  let counts = new Map<string, number>();
  let countedSince = Date.now();
  let flushTimer: NodeJS.Timeout | undefined;
  // Resolved by flush() when the queue has room again (a fetch waiting in offer()).
  let roomWaiter: (() => void) | undefined;

  const sendControl = (message: object) => {
    // Control frames skip the queue; with a full socket buffer they are skipped (stats come again).
    if (socket.readyState === WebSocket.OPEN && socket.bufferedAmount < maxBufferedBytes) socket.send(JSON.stringify(message));
  };
  const sendError = (error: Omit<ProtocolError, 'kind'>) => {
    metrics.badFrames.inc();
    sendControl({ kind: 'error', ...error });
  };

  const flush = () => {
    while (!paused && queue.size > 0 && socket.readyState === WebSocket.OPEN) {
      if (socket.bufferedAmount >= maxBufferedBytes) {
        flushTimer ??= setTimeout(() => {
          flushTimer = undefined;
          flush();
        }, FLUSH_RETRY_MS);
        return;
      }
      const m = queue.shift()!;
      socket.send(JSON.stringify({ kind: 'message', topic: m.topic, partition: m.partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value }));
      metrics.sent.inc();
      roomWaiter?.();
    }
  };

  const waitForRoom = (deadline: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(done, Math.max(deadline - Date.now(), 0));
    function done() {
      clearTimeout(timer);
      roomWaiter = undefined;
      resolve();
    }
    roomWaiter = done;
    flush();
  });

  const logDrops = (force: boolean) => {
    if (droppedUnlogged === 0) return;
    const now = Date.now();
    if (!force && now - lastDropLog < DROP_LOG_INTERVAL_MS && lastDropLog !== 0) return;
    logger.warn({ dropped: droppedUnlogged, droppedTotal: dropped, topics, paused, bufferedBytes: socket.bufferedAmount }, 'viewer too slow: messages dropped');
    droppedUnlogged = 0;
    lastDropLog = now;
  };

  const offer = async (messages: ViewedMessage[], live: boolean, mine: number) => {
    metrics.consumed.inc(messages.length);
    // The backlog (last N) is one deliberate burst: it may wait longer for room.
    const deadline = Date.now() + (live ? options.roomWaitMs : Math.max(options.roomWaitMs, BACKLOG_ROOM_WAIT_MS));
    for (const m of messages) {
      if (live) counts.set(m.topic, (counts.get(m.topic) ?? 0) + 1);
      if (!filter(m)) continue;
      if (queue.size >= options.maxQueue && !paused && Date.now() < deadline) {
        await waitForRoom(deadline);
        if (closed || mine !== subscription) return;
      }
      if (queue.push(m) !== undefined) {
        dropped++;
        droppedUnlogged++;
        metrics.dropped.inc({ reason: paused ? 'paused' : 'slow_client' });
      }
    }
    logDrops(false);
    flush();
  };

  const statsTimer = setInterval(() => {
    const now = Date.now();
    const seconds = Math.max((now - countedSince) / 1000, 0.001);
    const rates: Record<string, number> = {};
    for (const topic of topics) rates[topic] = Math.round(((counts.get(topic) ?? 0) / seconds) * 10) / 10;
    counts = new Map();
    countedSince = now;
    logDrops(false);
    sendControl({ kind: 'stats', rates, dropped, queued: queue.size, paused });
  }, options.statsIntervalMs);

  const subscribe = async (command: Extract<ClientCommand, { op: 'subscribe' }>) => {
    const existing = await options.existingTopics();
    const missing = command.topics.findIndex((t) => !existing.has(t));
    if (missing !== -1) return sendError({ field: `topics.${missing}`, rule: `must be an existing topic (${command.topics[missing]} is not)` });

    const mine = ++subscription;
    const previous = tail;
    tail = undefined;
    await previous?.stop();
    queue.clear();
    topics = command.topics;
    filter = compileFilter(command.filter);
    counts = new Map();
    countedSince = Date.now();
    try {
      const started = await options.openTail({
        topics: command.topics,
        last: command.last,
        onMessages: async (messages, live) => {
          if (mine === subscription && !closed) await offer(messages, live, mine);
        },
        onError: (message) => {
          if (mine === subscription && !closed) sendError({ field: 'topics', rule: message });
        },
      });
      if (closed || mine !== subscription) {
        await started.stop();
        return;
      }
      tail = started;
    } catch (err) {
      if (mine !== subscription) return;
      logger.warn({ err: err instanceof Error ? err.message : String(err), topics: command.topics }, 'viewer: subscribe failed');
      return sendError({ field: 'topics', rule: `could not be read: ${err instanceof Error ? err.message : String(err)}` });
    }
    sendControl({ kind: 'subscribed', topics: command.topics, last: command.last, filter: command.filter });
    logger.info({ topics: command.topics, last: command.last, filter: command.filter, groupId: tail.groupId }, 'viewer subscribed');
  };

  const setFilter = (next: MessageFilter) => {
    filter = compileFilter(next);
    sendControl({ kind: 'filtered', filter: next });
  };

  const handle = async (command: ClientCommand) => {
    switch (command.op) {
      case 'subscribe':
        return subscribe(command);
      case 'filter':
        return setFilter(command.filter);
      case 'pause':
        paused = true;
        return sendControl({ kind: 'paused' });
      case 'resume':
        paused = false;
        sendControl({ kind: 'resumed' });
        return flush();
    }
  };

  // Commands run one after the other: a subscribe waits for the one before it.
  let commands = Promise.resolve();
  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) return sendError({ field: '(root)', rule: 'must be a text frame holding JSON' });
    const parsed = parseClientFrame(data.toString());
    if (!parsed.ok) return sendError(parsed.error);
    commands = commands.then(() => handle(parsed.command)).catch((err: unknown) => {
      logger.error({ err }, 'viewer: command failed');
      sendError({ field: '(root)', rule: `could not be handled: ${err instanceof Error ? err.message : String(err)}` });
    });
  });

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        closed = true;
        subscription++;
        roomWaiter?.();
        clearInterval(statsTimer);
        clearTimeout(flushTimer);
        logDrops(true);
        queue.clear();
        await commands;
        await tail?.stop();
      })();
      return closing;
    },
  };
}
