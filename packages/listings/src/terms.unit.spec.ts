import { describe, expect, it } from 'vitest';
import { fold, offerTerms, queryTerms, STOP_WORDS, terms } from './index.ts';

describe('terms', () => {
  it.each([
    ['lower case', 'Mountain BIKE', ['mountain', 'bike']],
    ['diacritics removed (NFKD)', 'Fahrräder Crème brûlée', ['fahrrader', 'creme', 'brulee']],
    ['precomposed and decomposed forms agree', 'Fahrra\u0308der', ['fahrrader']],
    ['compatibility forms (NFKD)', 'ﬁsh ２４ ⅻ', ['fish', '24', 'xii']],
    ['ß folds to ss', 'Straße', ['strasse']],
    ['split on punctuation and symbols', 'e-bike/city,bike (26")!', ['e', 'bike', 'city', '26']],
    ['digits are kept', 'iPhone 12 Pro', ['iphone', '12', 'pro']],
    ['letters of any script', 'Сумка 自行车', ['сумка', '自行车']],
    ['English stop words dropped', 'The bike for a child', ['bike', 'child']],
    ['German stop words dropped', 'Ein Kinderwagen für die Stadt und das Land', ['kinderwagen', 'fur', 'stadt', 'land']],
    ['stop words match after folding', 'ÜBER dem Sofa, DASS', ['sofa']],
    ['distinct, in order of first appearance', 'bike Bike BIKE lamp bike', ['bike', 'lamp']],
    ['empty and blank', '  ,.; ', []],
  ])('%s', (_name, text, expected) => {
    expect(terms(text)).toEqual(expected);
  });

  it('keeps German stop words that are English nouns of things people trade', () => {
    expect(terms('hat fur bin man war')).toEqual(['hat', 'fur', 'bin', 'man', 'war']);
  });

  it('stores the stop words folded', () => {
    for (const word of STOP_WORDS) expect(fold(word)).toBe(word);
  });

  it('query terms are title and tags; offer terms add the description', () => {
    const listing = { title: 'Kinder-Fahrrad', description: 'Blau, 20 Zoll', tags: ['Sport', 'Kinder'] };
    expect(queryTerms(listing)).toEqual(['kinder', 'fahrrad', 'sport']);
    expect(offerTerms(listing)).toEqual(['kinder', 'fahrrad', 'blau', '20', 'zoll', 'sport']);
    expect(offerTerms({ title: 'Lamp', tags: [] })).toEqual(['lamp']);
  });
});
