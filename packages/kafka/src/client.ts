import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@pushtech/logging';

export interface KafkaOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
  /** Connection attempts while the broker is unreachable (kafkajs retries with back-off). */
  retries?: number;
  /**
   * kafkajs' own log lines at or above this level reach the logger (default warn).
   * A service that retries with its own back-off and logs each failure once can pass 'none'.
   */
  logLevel?: 'none' | 'error' | 'warn' | 'info' | 'debug';
}

const kafkajsLevels = { none: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };

// Our producers bound their retries on purpose: the callers retry with their own
// back-off and at-least-once delivery with event ids makes duplicates harmless.
const EXPECTED_WARNINGS = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(options: KafkaOptions): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: kafkajsLevels[options.logLevel ?? 'warn'],
    retry: { retries: options.retries ?? 8, initialRetryTime: 100, maxRetryTime: 5_000 },
    logCreator: () => ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      if (EXPECTED_WARNINGS.has(message)) return;
      log[levels[level] ?? 'info'](rest, message);
    },
  });
}
