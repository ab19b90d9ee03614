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

interface QueryTerm {
  /** The word's possible stems; a prefix term's one entry is its prefix. */
  readonly stems: ReadonlySet<string>;
  readonly prefix: boolean;
}

export function snippetOf(content: string, words: readonly string[]): string {
  const terms: QueryTerm[] = words.map((word) =>
    word.endsWith('*') ? { stems: new Set([word.slice(0, -1).toLowerCase()]), prefix: true } : { stems: new Set(stems(word.toLowerCase())), prefix: false },
  );
  const matches: { start: number; end: number }[] = [];
  for (const found of content.matchAll(WORD)) {
    const token = found[0].toLowerCase();
    const hit = terms.some((term) =>
      term.prefix ? [...term.stems].some((prefix) => token.startsWith(prefix)) : stems(token).some((stem) => term.stems.has(stem)),
    );
    if (hit) matches.push({ start: found.index, end: found.index + found[0].length });
  }
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
