import { type CellGraph, createCellGraph } from './cell-graph.ts';
import { createListingSlots, type ListingSlots, NONE } from './listing-slots.ts';
import { createPostingTable, type PostingTable } from './posting-table.ts';
import { createTermVocabulary, type TermVocabulary } from './term-vocabulary.ts';
import { copyInto } from './typed-arrays.ts';

/**
 * Matches of one query: the slots `slots[0..count)` of the listings matching the
 * listing in slot `query`; valid until the next query. The index turns slots
 * into ids and distances (`idOf`, `distanceM`) for the matches that need them.
 */
export interface MatchBuffer {
  query: number;
  count: number;
  slots: Int32Array;
}

/** Counters since the index was created: queries run, posting lists looked up, candidates examined, matches found. */
export interface IndexStats {
  queries: number;
  lookups: number;
  candidates: number;
  matches: number;
}

/** Everything the index holds; listing-index.ts changes it, find-matches.ts reads it. */
export interface IndexState {
  slots: ListingSlots;
  cells: CellGraph;
  vocabulary: TermVocabulary;
  /** Every active offer under each of its terms, in its cell. */
  offers: PostingTable;
  /** Every active search under one of its terms (its key term), in its cell. */
  searches: PostingTable;
  /** termMark[term] === currentMark: the term belongs to the offer being matched. */
  termMark: Uint32Array;
  currentMark: number;
  /** The posting lists a query will read (entries), and their cells. */
  entryScratch: Int32Array;
  cellScratch: Int32Array;
  /** The records (int offsets) of the candidates near enough, live and of another owner; their terms are checked next. */
  nearScratch: Int32Array;
  result: MatchBuffer;
  stats: IndexStats;
}

export function createIndexState(resolution: number): IndexState {
  return {
    slots: createListingSlots(),
    cells: createCellGraph(resolution),
    vocabulary: createTermVocabulary(),
    offers: createPostingTable(1 << 14),
    searches: createPostingTable(1 << 14),
    termMark: new Uint32Array(1024),
    currentMark: 0,
    entryScratch: new Int32Array(1024),
    cellScratch: new Int32Array(1024),
    nearScratch: new Int32Array(1024),
    result: { query: NONE, count: 0, slots: new Int32Array(1024) },
    stats: { queries: 0, lookups: 0, candidates: 0, matches: 0 },
  };
}

export function ensureScratch(state: IndexState, size: number): void {
  if (size <= state.entryScratch.length) return;
  state.entryScratch = copyInto(new Int32Array(size * 2), state.entryScratch);
  state.cellScratch = copyInto(new Int32Array(size * 2), state.cellScratch);
}

/** Starts a new offer's term marks (termMark), and returns the mark. */
export function nextTermMark(state: IndexState): number {
  if (state.termMark.length < state.vocabulary.size()) state.termMark = new Uint32Array(state.vocabulary.size() * 2);
  if (++state.currentMark === 0xffffffff) {
    state.termMark.fill(0);
    state.currentMark = 1;
  }
  return state.currentMark;
}

/** Record field SIGNATURE of an offer: the ORed bits of its terms, one of 32 bits a term. */
export function signatureBit(term: number): number {
  return 1 << (Math.imul(term, 0x9e3779b1) >>> 27);
}

/** Record field SIGNATURE of a search: its one term besides the key term, or one of these. */
export const NO_OTHER_TERM = -1;
export const MANY_TERMS = -2;

const EXPIRY_EPOCH_S = 1_577_836_800;

/** Record field EXPIRES: whole seconds since 2020 (int32 until 2088); equal seconds are decided from the slot's exact expiry. */
export function expirySeconds(ms: number): number {
  const s = Math.floor(ms / 1000) - EXPIRY_EPOCH_S;
  return s > 0x7fffffff ? 0x7fffffff : s < -0x80000000 ? -0x80000000 : s;
}
