import { describe, expect, it } from 'vitest';
import { murmur2, partitionOf } from './shards.ts';

describe('shards', () => {
  // Values of Kafka's Java client (Utils.murmur2), as kafkajs' default partitioner computes them too.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('murmur2(%j) is Kafka\'s', (key, hash) => {
    expect(murmur2(key)).toBe(hash);
  });

  it('puts a key in the partition Kafka\'s default partitioner picks', () => {
    expect(partitionOf('21', 6)).toBe((-973932308 & 0x7fffffff) % 6);
    for (const key of ['a', 'ü-€', '0197b2c4-5f1d-7000-8000-1a2b3c4d5e6f']) {
      expect(partitionOf(key, 6)).toBeGreaterThanOrEqual(0);
      expect(partitionOf(key, 6)).toBeLessThan(6);
    }
  });
});
