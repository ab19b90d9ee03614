import { pick, seededRandom } from '../shared/seeded-random.js';

/**
 * The words the notes are written in: English function words at the top, then made-up words
 * built from English-like syllables, ranked by how often they occur. Word number r (1-based) is
 * drawn with a probability proportional to 1/r (Zipf's law, as in real text), so a few words are
 * in nearly every note, a few hundred are in one note out of twenty to one out of two hundred,
 * and most are rare. Made-up words rather than a dictionary: the bench needs no word list from
 * the machine, and the same seed gives the same vocabulary everywhere.
 */
export const VOCABULARY_SIZE = 4_000;

/**
 * The query words are drawn from these ranks, counted among the made-up words (past the function
 * words): frequent enough that a query matches thousands of rows in a large store (the 50th is in
 * about one note in twenty, the 500th in about one in ninety), rare enough to be a search term.
 */
export const QUERY_RANKS = { from: 50, to: 500 } as const;

/** The most frequent words of English text, most frequent first (FTS5 keeps them: no stop list). */
const FUNCTION_WORDS = (
  'the of and to a in is that for it as was with be by on not he this are or his from at which but ' +
  'have an they you were her she there been one all we their has would when if so no will more can ' +
  'out up into do than only other some could its also what about over after then them these two may'
).split(' ');

const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'br', 'cr', 'dr', 'fl', 'gr', 'pl', 'pr', 'sh', 'st', 'th', 'tr', 'ch', 'sp', 'sl', 'cl', 'bl', 'gl', 'fr', 'sk', 'sm', 'sn', 'wh'];
const NUCLEI = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'i', 'o', 'ai', 'ea', 'ee', 'oo', 'ou', 'oa'];
const CODAS = ['', '', '', 'n', 'r', 's', 't', 'l', 'm', 'nd', 'st', 'ck', 'ng', 'nt', 'rk', 'sh', 'll', 'rt', 'x', 'p'];

export class Vocabulary {
  /** The words, most frequent first. */
  readonly words: readonly string[];
  /** cumulative[i]: the probability that a drawn word is one of words[0..i]. */
  readonly #cumulative: Float64Array;

  constructor(seed = 0x70c4b) {
    const next = seededRandom(seed);
    const seen = new Set<string>(FUNCTION_WORDS);
    const words = [...FUNCTION_WORDS];
    while (words.length < VOCABULARY_SIZE) {
      // Frequent words are short, as in real text: one or two syllables near the top, up to three below.
      const syllables = 1 + Math.floor(next() * (words.length < 400 ? 2 : 3));
      let word = '';
      for (let index = 0; index < syllables; index += 1) word += pick(ONSETS, next) + pick(NUCLEI, next) + (index === syllables - 1 ? pick(CODAS, next) : '');
      if (word.length < 3 || seen.has(word)) continue;
      seen.add(word);
      words.push(word);
    }
    this.words = words;
    this.#cumulative = new Float64Array(words.length);
    let total = 0;
    for (let rank = 1; rank <= words.length; rank += 1) {
      total += 1 / rank;
      this.#cumulative[rank - 1] = total;
    }
    for (let index = 0; index < words.length; index += 1) this.#cumulative[index] = (this.#cumulative[index] as number) / total;
  }

  /** A word drawn by its Zipf frequency. */
  draw(next: () => number): string {
    const target = next();
    let low = 0;
    let high = this.#cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#cumulative[middle] as number) < target) low = middle + 1;
      else high = middle;
    }
    return this.words[low] as string;
  }

  /** A query word: a content word of the mid-frequency ranks (QUERY_RANKS), uniformly. */
  queryWord(next: () => number): string {
    const from = FUNCTION_WORDS.length + QUERY_RANKS.from;
    const to = FUNCTION_WORDS.length + QUERY_RANKS.to;
    return this.words[from + Math.floor(next() * (to - from))] as string;
  }
}
