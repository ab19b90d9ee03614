import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { everyWordMatching, matchFinder, SNIPPET_CHARS, snippetMaker, termsOf, wordMatcher } from '../src/recall-snippet.js';

const snippetOf = (content: string, words: readonly string[]) => snippetMaker(words)(content);

describe('the snippet of a recall hit', () => {
  it('marks every form of a query word the search matches, and prefixes', () => {
    expect(snippetOf('The deploys go out on Tuesdays; we deployed the api and deploying needs Node 20.', ['deploy'])).toBe(
      'The «deploys» go out on Tuesdays; we «deployed» the api and «deploying» needs Node 20.',
    );
    expect(snippetOf('notes and a note', ['notes'])).toBe('«notes» and a «note»');
    expect(snippetOf('a deployment, a deployer', ['depl*'])).toBe('a «deployment», a «deployer»');
    expect(snippetOf('Überweisung geprüft', ['überweisung'])).toBe('«Überweisung» geprüft');
  });

  it('is the window where the words are thickest, cut at words, with … where content was left out', () => {
    const content = `${'filler '.repeat(60)}the walrus and the walrus calf ${'more '.repeat(60)}`;
    const snippet = snippetOf(content, ['walrus']);
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet.endsWith('…')).toBe(true);
    expect(snippet).toContain('the «walrus» and the «walrus» calf');
    expect(snippet.replace(/[«»…]/g, '').length).toBeLessThanOrEqual(SNIPPET_CHARS);
    // No word cut in half at either end.
    expect(snippet).toMatch(/^…(filler )*the «walrus» and the «walrus» calf( more)*…$/);
  });

  it('a content without the words gives its beginning', () => {
    expect(snippetOf('short note', ['absent'])).toBe('short note');
    expect(snippetOf('x'.repeat(10) + ' ' + 'y '.repeat(200), ['absent']).endsWith('…')).toBe(true);
  });
});

describe('the words a snippet marks', () => {
  // Words, forms of them, letters whose case rules are unusual (İ, Σ, ß, an astral letter) and separators.
  const PIECES = ['deploy', 'Deploys', 'deployed', 'DEPLOYING', 'studies', 'study', 'studied', 'note', 'notes', 'not', 'İstanbul', 'ΣΟΦΟΣ', 'σοφος', 'straße', 'STRASSE', '𝒳yz', 'x1', 'e\u0301', 'é', 'walrus', 'wal'];
  const SEPARATORS = [' ', '. ', "'", '-', '_', '\n', ''];
  const QUERY_WORDS = ['deploy', 'deploys', 'studies', 'study', 'notes', 'İstanbul', 'σοφος', 'straße', '𝒳yz', 'x1', 'wal*', 'dep*', 'é', 'walrus'];

  it('are the words that match when every word is looked at, for any content and words', () => {
    const content = fc.array(fc.tuple(fc.constantFrom(...PIECES), fc.constantFrom(...SEPARATORS)), { maxLength: 40 }).map((parts) => parts.map(([piece, separator]) => piece + separator).join(''));
    const words = fc.uniqueArray(fc.constantFrom(...QUERY_WORDS), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(content, words, (text, query) => {
        expect(matchFinder(query)(text)).toEqual(everyWordMatching(text, wordMatcher(termsOf(query))));
      }),
      { numRuns: 2_000 },
    );
  });
});
