import type { TopicSpec } from '@pushtech/kafka';

/** Where a topic is and who uses it (the README's table is checked against it). */
export interface TopicDeclaration {
  /** Default name, partitions, retention, clean-up: what `ensureTopics` creates (services rename it by env var). */
  spec: TopicSpec;
  /** The services that write it. */
  writers: readonly string[];
  /** The services that read it. */
  readers: readonly string[];
}

/** What every topic module declares: where, who, and how a value goes on the wire and comes back. */
export interface TopicContract extends TopicDeclaration {
  /** The record key of a value: what keeps related records in order on one partition. */
  key(value: never): string | null;
  /** The record a writer sends for a value. */
  encode(value: never, options?: never): { key: string | null; value: string };
  /** A record's value, checked against the schema, or why it is not valid. Never throws. */
  decode(value: Buffer | null): unknown;
}
