/**
 * Which client `createProducer` uses. @platformatic/kafka produces the same records at ~4.5×
 * kafkajs' rate for ~1/6 of the CPU (`npm run bench:kafka`); kafkajs stays selectable so the two
 * can still be measured side by side.
 */
import { loadConfigOrExit, oneOf } from '@pushtech/config';

export const producerClients = ['platformatic', 'kafkajs'] as const;
export type ProducerClient = (typeof producerClients)[number];

export const producerClientSpec = { KAFKA_PRODUCER: oneOf(producerClients, { default: 'platformatic' }) };

/**
 * `KAFKA_PRODUCER`, read here and nowhere else. Library config like any other: a bad value stops
 * the process with one line naming the variable and the rule (exit 78).
 */
export function producerClientFromEnv(env: NodeJS.ProcessEnv = process.env): ProducerClient {
  return loadConfigOrExit(producerClientSpec, env).KAFKA_PRODUCER;
}
