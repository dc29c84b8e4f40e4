/**
 * Which client `createProducer` uses. @platformatic/kafka produced the same records at 2.5–6.6×
 * kafkajs' rate for ~1/7 of the CPU (`npm run bench:kafka`); kafkajs stays selectable so the two
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
