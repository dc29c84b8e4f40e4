/** kafkajs types through the `Kafka` that @pushtech/kafka exports (this package does not import kafkajs itself). */
import type { Kafka } from '@pushtech/kafka';

export type Consumer = ReturnType<Kafka['consumer']>;
export type Admin = ReturnType<Kafka['admin']>;
type RunConfig = NonNullable<Parameters<Consumer['run']>[0]>;
export type EachBatchPayload = Parameters<NonNullable<RunConfig['eachBatch']>>[0];
