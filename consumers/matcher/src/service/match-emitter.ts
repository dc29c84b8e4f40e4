/**
 * Writes decisions to topic `matches` in the order they were made: key
 * `pairKey(searchId, offerId)` (one pair's events stay in order on one
 * partition), value a CloudEvents envelope (`source: "matcher"`, `type`
 * `match.found` / `match.lost`, `subject` the pair, `data` the `MatchData`).
 *
 * Decisions queue up in memory; `flush` sends what is queued, one send at a
 * time, and retries a failed send (with back-off) until it succeeds, so
 * nothing decided is dropped while the process lives; once the emitter is
 * closed, a send is tried SEND_ATTEMPTS_WHEN_CLOSED times at most.
 */
import { matchesTopic } from '@pushtech/contracts';
import type { Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { retry, type BackoffPolicy } from '@pushtech/service';
import type { MatchDecision } from './matching.ts';
import type { MatcherMetrics } from './metrics.ts';

const MAX_MESSAGES_PER_SEND = 2_000;
/** 200 ms after the first failure, doubling up to 5 s. */
const SEND_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 5_000 };
const SEND_ATTEMPTS_WHEN_CLOSED = 3;

export interface MatchEmitter {
  decide(decision: MatchDecision): void;
  /** Resolves once everything decided so far is on Kafka (acks=all). */
  flush(): Promise<void>;
  /** Decisions not sent yet. */
  pending(): number;
  /** Decisions sent since the start. */
  sent(): number;
  /** Sends what is queued, then stops retrying. */
  close(): Promise<void>;
}

export function createMatchEmitter(options: { producer: Producer; topic: string; logger: Logger; metrics: MatcherMetrics }): MatchEmitter {
  const { producer, topic, logger, metrics } = options;
  let queue: MatchDecision[] = [];
  let sending: Promise<void> = Promise.resolve();
  let closed = false;
  let sent = 0;

  async function sendQueued(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_MESSAGES_PER_SEND);
      let attempt = 0;
      await retry(
        async (n) => {
          attempt = n;
          await producer.send(topic, batch.map((d) => matchesTopic.encode(d.event))).catch((err: unknown) => {
            metrics.sendFailures.inc();
            throw err;
          });
        },
        {
          policy: SEND_BACKOFF,
          retryable: () => !closed || attempt < SEND_ATTEMPTS_WHEN_CLOSED,
          onFailure: (err, failures, retryInMs) =>
            logger.warn({ err: err instanceof Error ? err.message : String(err), attempt: failures, retryInMs, decisions: batch.length }, 'sending match events failed'),
        },
      );
      queue = queue.slice(batch.length);
      sent += batch.length;
      for (const decision of batch) metrics.decisions.inc({ type: decision.event.type === 'match.found' ? 'found' : 'lost', cause: decision.cause });
    }
  }

  return {
    decide(decision) {
      queue.push(decision);
    },
    flush() {
      sending = sending.then(sendQueued);
      return sending;
    },
    pending: () => queue.length,
    sent: () => sent,
    async close() {
      closed = true;
      sending = sending.then(sendQueued);
      await sending;
    },
  };
}
