import type { Listing } from './listing.ts';

/**
 * Stop words: the most common English and German function words (articles,
 * pronouns, prepositions, conjunctions, auxiliaries). Kept modest on purpose:
 * a word dropped here can never be searched for. Words whose folded form is a
 * thing people trade are left out: German "für" (it folds to "fur"), "hat",
 * "bin", "man" and "war" are also English nouns.
 */
const ENGLISH = `a about after all also am an and any are as at be been before being but by
  did do does doing for from had has have having he her here hers him his how i if in into is it
  its itself me more most my no nor not of off on once only or other our ours out over own same
  she should so some such than that the their theirs them then there these they this those
  through to too under until up very was we were what when where which while who whom why will
  with would you your yours`;

const GERMAN = `aber als also am an auch auf aus bei bis bist da damit dann das dass daß dein
  deine dem den der des dich die dir doch dort du durch ein eine einem einen einer eines er es
  euch euer eure gegen habe haben hast hatte ich ihm ihn ihr ihre im in ist jede jedem jeden
  jeder jedes kein keine mein meine mich mir mit nach nicht noch nun nur ob oder ohne sehr sein
  seine sich sie sind so soll über um und uns unser unter vom von vor was weil wenn wer wie wir
  wird wo zu zum zur`;

/** Unicode NFKD, combining marks (diacritics) removed, lower case, ß as ss. */
export function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().replace(/ß/g, 'ss');
}

const SPLIT = /[^\p{L}\p{N}]+/u;

/** Stored folded, so that "über" and "uber" are both recognised. */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  `${ENGLISH} ${GERMAN}`.split(/\s+/).filter(Boolean).map(fold),
);

/**
 * The distinct terms of a text, in order of first appearance: folded (see `fold`),
 * split on anything that is not a letter or a digit, stop words dropped.
 */
export function terms(text: string): string[] {
  const seen = new Set<string>();
  for (const word of fold(text).split(SPLIT)) {
    if (word !== '' && !STOP_WORDS.has(word)) seen.add(word);
  }
  return [...seen];
}

/** What a search asks for: terms of its title and tags. Every one must be among an offer's terms. */
export function queryTerms(search: Pick<Listing, 'title' | 'tags'>): string[] {
  return terms([search.title, ...search.tags].join(' '));
}

/** What an offer can be found by: terms of its title, description and tags. */
export function offerTerms(offer: Pick<Listing, 'title' | 'description' | 'tags'>): string[] {
  return terms([offer.title, offer.description ?? '', ...offer.tags].join(' '));
}

/** The terms a listing is matched on: query terms for a search, offer terms for an offer. */
export function listingTerms(listing: Pick<Listing, 'kind' | 'title' | 'description' | 'tags'>): string[] {
  return listing.kind === 'search' ? queryTerms(listing) : offerTerms(listing);
}
