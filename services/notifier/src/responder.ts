/**
 * Responses go to each request's `responseTopic`, keyed by the request's
 * uuid. Many are in flight at once, so they are batched: while one produce
 * request is out, the next responses gather and go together. A failed
 * produce is retried with back-off; `send` resolves only once Kafka has the
 * response (acks=all), which is when the request counts as done.
 */
import { notifyResultsTopic, type NotifyResponse } from '@pushtech/contracts';
import type { OutgoingMessage, Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { backoffDelay, sleep, type BackoffPolicy } from '@pushtech/service';

export interface Responder {
  /** Resolves once Kafka acknowledged the response; rejects only if the responder closes before it could be sent. */
  send(topic: string, response: NotifyResponse): Promise<void>;
  /** Sends what is pending (retrying for up to `closeGraceMs`), then rejects whatever is left. */
  close(): Promise<void>;
}

interface Pending {
  topic: string;
  message: OutgoingMessage;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface KafkaResponderOptions {
  producer: Producer;
  /** Makes sure the topic exists (response topics are created on first use). */
  ensureTopic: (topic: string) => Promise<void>;
  logger: Logger;
  onFailure?: () => void;
  maxBatch?: number;
  closeGraceMs?: number;
  /** Between failed produce attempts (default 100 ms doubling to 5 s). */
  backoff?: BackoffPolicy;
}

export function createKafkaResponder(options: KafkaResponderOptions): Responder {
  const { producer, logger } = options;
  const maxBatch = options.maxBatch ?? 500;
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 5_000 };
  let pending: Pending[] = [];
  let running: Promise<void> | undefined;
  let closingDeadline = Infinity;
  const closing = new AbortController();

  async function produce(batch: Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        for (const topic of new Set(batch.map((p) => p.topic))) await options.ensureTopic(topic);
        const byTopic = Map.groupBy(batch, (p) => p.topic);
        await producer.sendBatch([...byTopic].map(([topic, items]) => ({ topic, messages: items.map((p) => p.message) })));
        for (const p of batch) p.resolve();
        return;
      } catch (err) {
        options.onFailure?.();
        const delay = backoffDelay(backoff, attempt);
        if (Date.now() + delay > closingDeadline) {
          const error = new Error(`responses not sent: ${err instanceof Error ? err.message : String(err)}`);
          for (const p of batch) p.reject(error);
          return;
        }
        logger.warn({ err: err instanceof Error ? err.message : String(err), responses: batch.length, attempt, retryInMs: delay }, 'kafka: producing responses failed');
        await sleep(delay, closing.signal).catch(() => {});
      }
    }
  }

  function run(): void {
    if (running || pending.length === 0) return;
    running = (async () => {
      while (pending.length > 0) {
        const batch = pending.slice(0, maxBatch);
        pending = pending.slice(batch.length);
        await produce(batch);
      }
    })().finally(() => {
      running = undefined;
      run();
    });
  }

  return {
    send(topic, response) {
      return new Promise<void>((resolve, reject) => {
        if (closingDeadline !== Infinity && Date.now() > closingDeadline) {
          reject(new Error('responder closed'));
          return;
        }
        pending.push({ topic, message: notifyResultsTopic.encode(response), resolve, reject });
        run();
      });
    },
    async close() {
      closingDeadline = Date.now() + (options.closeGraceMs ?? 10_000);
      while (running) {
        const current = running;
        // Wake a back-off sleep once the grace is over, so close never waits longer than that.
        const timer = setTimeout(() => closing.abort(), Math.max(0, closingDeadline - Date.now()));
        await current;
        clearTimeout(timer);
      }
    },
  };
}

/** Responses kept in memory, for unit tests. */
export function createMemoryResponder(): Responder & { sent: { topic: string; response: NotifyResponse }[] } {
  const sent: { topic: string; response: NotifyResponse }[] = [];
  return {
    sent,
    async send(topic, response) {
      sent.push({ topic, response });
    },
    async close() {},
  };
}
