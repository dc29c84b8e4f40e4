export { createKafka, type KafkaOptions } from './client.ts';
export { ensureTopics, days, retryRetriable, type TopicSpec } from './topics.ts';
export { createProducer, type Producer, type OutgoingMessage } from './producer.ts';
export { runConsumer, parseJson, type ConsumedMessage, type ConsumerOptions, type RunningConsumer } from './consumer.ts';
export type { Kafka } from 'kafkajs';
