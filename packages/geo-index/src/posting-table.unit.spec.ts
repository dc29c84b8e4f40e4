import { describe, expect, it } from 'vitest';
import { addPosting, blockLength, blockStart, createPostingTable, findPostings, findRecord, postingCount, RECORD, removePosting, SLOT } from './posting-table.ts';
import { seededRandom } from '@pushtech/random';

function slotsOf(table: ReturnType<typeof createPostingTable>, cell: number, term: number): number[] {
  const e = findPostings(table, cell, term);
  if (e < 0) return [];
  const from = blockStart(table, e) * RECORD;
  const slots: number[] = [];
  for (let i = 0; i < blockLength(table, e); i++) slots.push(table.ints[from + i * RECORD + SLOT]!);
  return slots.sort((a, b) => a - b);
}

describe('posting table', () => {
  it('holds what a plain map holds, through growth, shrinking and deletions', () => {
    const random = seededRandom(3);
    const table = createPostingTable(16); // small: forces rehashing, long probe runs and block moves
    const model = new Map<string, Set<number>>();
    const key = (cell: number, term: number) => `${cell}/${term}`;
    for (let step = 0; step < 60_000; step++) {
      // Few cells and a skewed choice of terms: some keys get hundreds of slots, most a few.
      const cell = Math.floor(random() * 20);
      const term = Math.floor(random() ** 3 * 300);
      const slot = Math.floor(random() * 400);
      const slots = model.get(key(cell, term)) ?? new Set<number>();
      if (random() < 0.55 && !slots.has(slot)) {
        addPosting(table, cell, term, slot);
        slots.add(slot);
        model.set(key(cell, term), slots);
      } else {
        expect(removePosting(table, cell, term, slot)).toBe(slots.delete(slot));
        if (slots.size === 0) model.delete(key(cell, term));
      }
    }
    let records = 0;
    for (let cell = 0; cell < 20; cell++) {
      for (let term = 0; term < 300; term++) {
        const expected = [...(model.get(key(cell, term)) ?? [])].sort((a, b) => a - b);
        expect(slotsOf(table, cell, term)).toEqual(expected);
        if (expected.length > 0) expect(table.ints[findRecord(table, cell, term, expected[0]!) + SLOT]).toBe(expected[0]);
        records += expected.length;
      }
    }
    expect(table.keys).toBe(model.size);
    expect(postingCount(table)).toBe(records);
    expect(findRecord(table, 0, 0, 10_000)).toBe(-1);
  });
});
