export { createKafka, pingKafka, type Kafka, type KafkaAdmin, type KafkaOptions, type PartitionOffset, type PartitionWatermarks } from './client.ts';
export { ensureTopics, days, retryRetriable, type TopicSpec } from './topics.ts';
export {
  createProducer, KafkaConnectError, KafkaSendError, type OutgoingMessage, type Producer, type ProducerOptions, type TopicMessages, type WrittenBatch,
} from './producer.ts';
export { producerClients, type ProducerClient } from './producer-client.ts';
export { connectKafka, type KafkaConnection } from './connection.ts';
export { parseJson, type ConsumedMessage, type Headers, type Offsets } from './messages.ts';
export type { Assignment } from './group-events.ts';
// Consumer modes: a group that commits what its handler finished; a group whose messages are
// acknowledged one by one, in any order; reading without a group (a tail, a range).
export { runConsumer, type ConsumerOptions, type RunningConsumer } from './consumer.ts';
export { runAckConsumer, type AckConsumer, type AckConsumerOptions, type AckedMessage } from './ack-consumer.ts';
export { readRange, startTail, type Tail, type TailBatch, type TailOptions } from './tail.ts';
