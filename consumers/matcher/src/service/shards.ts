/**
 * Shards of the match work. Every search belongs to the shard numbered like the
 * `listings` partition its events go to (Kafka's default partitioner: murmur2 of
 * the key, the listing id); a pair belongs to its search's shard. The instance
 * that is assigned partition p in consumer group MATCHER_GROUP emits every
 * match event of the pairs in shard p, so each pair has one decider at a time.
 */

/** murmur2 as Kafka's Java client (and kafkajs' default partitioner) computes it, on the UTF-8 bytes. */
export function murmur2(key: string): number {
  const data = Buffer.from(key, 'utf8');
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  switch (length % 4) {
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: murmur3 mixes the tail bytes from the highest down
    case 3:
      h ^= (data[tail + 2]! & 0xff) << 16;
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: falls through, as above
    case 2:
      h ^= (data[tail + 1]! & 0xff) << 8;
    // falls through
    case 1:
      h ^= data[tail]! & 0xff;
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for `key` among `partitions`. */
export function partitionOf(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
