import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@pushtech/logging';

export interface KafkaOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
  /** Connection attempts while the broker is unreachable (kafkajs retries with back-off). */
  retries?: number;
}

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
    logLevel: logLevel.WARN,
    retry: { retries: options.retries ?? 8, initialRetryTime: 100, maxRetryTime: 5_000 },
    logCreator: () => ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      log[levels[level] ?? 'info'](rest, message);
    },
  });
}
