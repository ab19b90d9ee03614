/**
 * The snippet of a hit found by words: the part of its content where the query's words are
 * thickest, at most SNIPPET_CHARS long, each matched word between « and », with … where the
 * content was cut. Made here from the content, above the engines (SQLite's index is contentless,
 * so FTS5's snippet() has no text to work from), and so the same on both.
 *
 * A word matches the forms the search matched: a content word matches a query word when both
 * reduce to the same stem by a light English stemmer (deploy, deploys, deployed, deploying), and
 * a query word ending in `*` matches every content word it begins.
 */
export const SNIPPET_CHARS = 160;

const WORD = /[\p{L}\p{N}]+/gu;
/** The word beginning at lastIndex. */
const WORD_AT = /[\p{L}\p{N}]+/uy;
/** Whether a string ends in a letter or digit: tested on the one or two code units before a place (two: an astral letter). */
const WORD_CHAR_BEFORE = /[\p{L}\p{N}]$/u;

export interface QueryTerm {
  /** The word's possible stems; a prefix term's one entry is its prefix. */
  readonly stems: ReadonlySet<string>;
  readonly prefix: boolean;
}

/**
 * Makes the snippets of one recall's hits: the query's terms are read once, and whether a content
 * word matches them is remembered across the hits (their words repeat).
 */
export function snippetMaker(words: readonly string[]): (content: string) => string {
  const find = matchFinder(words);
  return (content) => snippetAround(content, find(content));
}

/** Where a matched word is in a content: [start, end) in UTF-16 code units. */
export interface WordMatch {
  readonly start: number;
  readonly end: number;
}

/**
 * Finds the words of a content that match the query's words, in order. Every matching word begins
 * with its term's `lead` (see leadOf), so only the places where a lead occurs are looked at: a
 * few native string searches instead of splitting the whole content into words, which was most
 * of a recall's time outside the database. Where lower-casing changes the content's length (a
 * rare letter such as İ), positions in the lower-cased text are not the content's, and every word
 * is looked at instead. Σ lower-cases to ς or σ by what surrounds it (a word's own lower case may
 * differ from the whole content's there), so the leads are searched for with ς as σ; whether a
 * word matches is always decided on the word lower-cased alone.
 */
export function matchFinder(words: readonly string[]): (content: string) => WordMatch[] {
  const terms = termsOf(words);
  const isMatch = wordMatcher(terms);
  const leads = [...new Set(terms.map((term) => withoutFinalSigma(leadOf(term))))];
  return (content) => {
    const lower = withoutFinalSigma(content.toLowerCase());
    if (lower.length !== content.length || leads.includes('')) return everyWordMatching(content, isMatch);
    const found = new Map<number, WordMatch>();
    for (const lead of leads) {
      for (let at = lower.indexOf(lead); at !== -1; at = lower.indexOf(lead, at + 1)) {
        if (found.has(at) || WORD_CHAR_BEFORE.test(content.slice(Math.max(0, at - 2), at))) continue;
        WORD_AT.lastIndex = at;
        const word = WORD_AT.exec(content)?.[0];
        if (word !== undefined && isMatch(word.toLowerCase())) found.set(at, { start: at, end: at + word.length });
      }
    }
    return [...found.values()].sort((a, b) => a.start - b.start);
  };
}

/** The query's words as terms: a word's stems, or a prefix. */
export function termsOf(words: readonly string[]): QueryTerm[] {
  return words.map((word) =>
    word.endsWith('*') ? { stems: new Set([word.slice(0, -1).toLowerCase()]), prefix: true } : { stems: new Set(stems(word.toLowerCase())), prefix: false },
  );
}

/** Whether a lower-cased content word matches any of the query's words, remembered per word (a recall's hits repeat their words). */
export function wordMatcher(terms: readonly QueryTerm[]): (token: string) => boolean {
  const matchesTerm = new Map<string, boolean>();
  return (token) => {
    let hit = matchesTerm.get(token);
    if (hit === undefined) {
      hit = terms.some((term) => (term.prefix ? [...term.stems].some((prefix) => token.startsWith(prefix)) : stems(token).some((stem) => term.stems.has(stem))));
      matchesTerm.set(token, hit);
    }
    return hit;
  };
}

function withoutFinalSigma(text: string): string {
  return text.replaceAll('ς', 'σ');
}

/** The words of the content that match, looked at one by one. */
export function everyWordMatching(content: string, isMatch: (token: string) => boolean): WordMatch[] {
  const matches: WordMatch[] = [];
  for (const found of content.matchAll(WORD)) {
    if (isMatch(found[0].toLowerCase())) matches.push({ start: found.index, end: found.index + found[0].length });
  }
  return matches;
}

/**
 * What every word matching the term begins with (lower-cased): the longest common beginning of
 * its stems, each also without a final `y` (a word ending in -ies or -ied has the stem -y, which
 * it does not begin with). A word and the term match when they share a stem, and a word begins
 * with each of its stems, or with the stem less its `y`.
 */
function leadOf(term: QueryTerm): string {
  const forms = [...term.stems].flatMap((stem) => (!term.prefix && stem.endsWith('y') ? [stem, stem.slice(0, -1)] : [stem]));
  let lead = forms[0] ?? '';
  for (const form of forms) while (!form.startsWith(lead)) lead = lead.slice(0, -1);
  return lead;
}

function snippetAround(content: string, matches: readonly WordMatch[]): string {
  // The window of SNIPPET_CHARS that holds the most matches, starting at a match (or the start).
  let from = 0;
  let best = -1;
  for (const anchor of matches) {
    const windowStart = Math.max(0, Math.min(anchor.start - 20, content.length - SNIPPET_CHARS));
    const count = matches.filter((match) => match.start >= windowStart && match.end <= windowStart + SNIPPET_CHARS).length;
    if (count > best) {
      best = count;
      from = windowStart;
    }
  }
  const to = Math.min(content.length, from + SNIPPET_CHARS);
  // Cut at word boundaries where the window cuts a word.
  while (from > 0 && from < to && /[\p{L}\p{N}]/u.test(content[from - 1] ?? '')) from += 1;
  let end = to;
  while (end < content.length && end > from && /[\p{L}\p{N}]/u.test(content[end] ?? '')) end -= 1;
  let text = '';
  let at = from;
  for (const match of matches) {
    if (match.start < from || match.end > end) continue;
    text += `${content.slice(at, match.start)}«${content.slice(match.start, match.end)}»`;
    at = match.end;
  }
  text += content.slice(at, end);
  return `${from > 0 ? '…' : ''}${text.replace(/\s+/g, ' ').trim()}${end < content.length ? '…' : ''}`;
}

/**
 * A light English stemmer: the word and what it may be without a plural or verb ending, as the
 * search's stemmers take them off (notes: notes, note, not; deployed: deployed, deploy). Two
 * words match when their lists meet.
 */
function stems(word: string): string[] {
  const found = [word];
  for (const suffix of ['ing', 'ies', 'ied', 'es', 'ed', 's']) {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) {
      const stem = word.slice(0, -suffix.length);
      found.push(suffix === 'ies' || suffix === 'ied' ? `${stem}y` : stem);
    }
  }
  return found;
}
