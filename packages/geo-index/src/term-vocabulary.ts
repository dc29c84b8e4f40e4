import { copyInto } from './typed-arrays.ts';

/**
 * Terms interned to small integers, with how many filed offers carry each term
 * and how many searches are filed under it: what makes a term "rare" for the
 * index. Terms are never forgotten (a vocabulary is small next to the listings).
 */
export function createTermVocabulary() {
  const idOf = new Map<string, number>();
  const words: string[] = [];
  const counts = {
    /** Filed offers carrying the term. */
    offers: new Int32Array(1024),
    /** Searches filed under the term. */
    searchKeys: new Int32Array(1024),
  };

  function intern(term: string): number {
    const known = idOf.get(term);
    if (known !== undefined) return known;
    const id = words.length;
    words.push(term);
    idOf.set(term, id);
    if (id === counts.offers.length) {
      counts.offers = copyInto(new Int32Array(id * 2), counts.offers);
      counts.searchKeys = copyInto(new Int32Array(id * 2), counts.searchKeys);
    }
    return id;
  }

  return {
    intern,
    counts,
    wordOf: (id: number) => words[id]!,
    size: () => words.length,
  };
}

export type TermVocabulary = ReturnType<typeof createTermVocabulary>;
