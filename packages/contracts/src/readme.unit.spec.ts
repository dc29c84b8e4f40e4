import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contracts } from './all-topics.ts';
import type { TopicContract } from './topic.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The rows of README.md's "Topics" table, as cells. */
function topicRows(): string[][] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Topics'), readme.indexOf('\n## ', readme.indexOf('## Topics') + 1));
  return section.split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
}

function expectedRow(topic: TopicContract) {
  const { spec } = topic;
  return {
    writers: topic.writers.join(', '),
    readers: topic.readers.join(', '),
    partitions: String(spec.partitions),
    retention: spec.retentionMs === -1 ? 'forever' : `${spec.retentionMs / DAY_MS} days`,
    cleanup: spec.cleanupPolicy ?? 'delete',
  };
}

describe('README.md', () => {
  const rows = topicRows();

  it('has one row per declared topic, and no other', () => {
    expect(rows.length).toBe(Object.keys(contracts).length);
  });

  it.each(Object.values(contracts).map((topic) => [topic.spec.name, topic] as const))('says what `%s` declares: writers, readers, partitions, retention, clean-up', (name, topic) => {
    const row = rows.find((cells) => cells[0]!.startsWith(`\`${name}\``));
    expect(row, `a row for ${name}`).toBeDefined();
    const [, , , writers, readers, partitions, retention, cleanup] = row!;
    expect({ writers, readers, partitions, retention, cleanup }).toEqual(expectedRow(topic));
  });
});
