import { describe, expect, it } from 'vitest';
import { SNIPPET_CHARS, snippetOf } from '../src/recall-snippet.js';

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
