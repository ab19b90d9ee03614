// The command lines of a ```sh block, as a reader copies them into a shell: `\` continuations
// joined, comment lines dropped, a trailing `# ...` comment kept apart (it may say what the command
// prints), and each line's simple commands (pipes, `&&`, `||`, `;`, `$(...)`) with their words, so
// that the test can tell which programs a line runs before it runs it.
import type { CodeBlock } from './readme-code-blocks.js';

/** One command line of a block. */
export interface CommandLine {
  /** The README line it starts on. */
  readonly readmeLine: number;
  /** The command as bash gets it, continuations joined, without its trailing comment. */
  readonly command: string;
  /** The trailing `# ...` comment's text, without the `#`, if the line has one. */
  readonly comment: string | undefined;
}

/** The command lines of a sh/bash block, in order. */
export function commandLines(block: CodeBlock): CommandLine[] {
  const result: CommandLine[] = [];
  for (let index = 0; index < block.lines.length; index++) {
    const readmeLine = block.line + 1 + index;
    let text = block.lines[index]!;
    if (text.trim() === '' || text.trim().startsWith('#')) continue;
    // A line ending in `\` goes on on the next one, as in bash (the newline is dropped with it).
    while (text.endsWith('\\') && index + 1 < block.lines.length) text = `${text.slice(0, -1)} ${block.lines[++index]!.trim()}`;
    const { command, comment } = splitComment(text);
    result.push({ readmeLine, command: command.trim().replace(/\s+/g, ' '), comment });
  }
  return result;
}

/** The command and its trailing comment: a `#` that starts a word outside quotes, as bash reads it. */
function splitComment(text: string): { command: string; comment: string | undefined } {
  let quote: string | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quote !== undefined) {
      if (char === '\\' && quote === '"') index++;
      else if (char === quote) quote = undefined;
    } else if (char === '\\') index++;
    else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (index === 0 || /\s/.test(text[index - 1]!))) {
      return { command: text.slice(0, index), comment: text.slice(index + 1).trim() };
    }
  }
  return { command: text, comment: undefined };
}

/**
 * The simple commands of a command line, each as its words (quotes removed, a `$(...)` kept as
 * written): `a x | b "$(c)"` gives [a, x], [b, "$(c)"] and [c]. Enough of bash's grammar for the
 * READMEs' lines; a heredoc, which spans lines, is refused, so that it cannot go unnoticed.
 */
export function simpleCommands(command: string): string[][] {
  const found: string[][] = [];
  parseCommands(command, 0, undefined, found);
  return found.filter((words) => words.length > 0);
}

/** Parses from `start` up to `stop` (')' of a `$(`, '`') or the end; pushes every simple command into `found`; returns where it stopped. */
function parseCommands(text: string, start: number, stop: string | undefined, found: string[][]): number {
  let words: string[] = [];
  let word: string | undefined;
  const endWord = (): void => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = (): void => {
    endWord();
    found.push(words);
    words = [];
  };
  let index = start;
  while (index < text.length) {
    const char = text[index]!;
    if (stop !== undefined && char === stop) break;
    if (text.startsWith('<<', index)) throw new Error(`a heredoc (<<) spans lines, which this test does not run: ${text}`);
    if (text.startsWith('$(', index)) {
      const end = parseCommands(text, index + 2, ')', found);
      word = `${word ?? ''}${text.slice(index, end + 1)}`;
      index = end + 1;
    } else if (char === '`') {
      const end = parseCommands(text, index + 1, '`', found);
      word = `${word ?? ''}${text.slice(index, end + 1)}`;
      index = end + 1;
    } else if (char === "'") {
      const end = text.indexOf("'", index + 1);
      if (end === -1) throw new Error(`an unclosed ' in: ${text}`);
      word = `${word ?? ''}${text.slice(index + 1, end)}`;
      index = end + 1;
    } else if (char === '"') {
      index = readDoubleQuoted(text, index + 1, found, (part) => (word = `${word ?? ''}${part}`));
    } else if (char === '\\') {
      word = `${word ?? ''}${text[index + 1] ?? ''}`;
      index += 2;
    } else if (/\s/.test(char)) {
      endWord();
      index++;
    } else if (char === '&' && (text[index - 1] === '>' || text[index - 1] === '<' || text[index + 1] === '>')) {
      // Part of a redirection (2>&1, &>file), not a command separator.
      word = `${word ?? ''}${char}`;
      index++;
    } else if ('|&;()'.includes(char)) {
      endCommand();
      index++;
    } else if (char === '#' && word === undefined) {
      break;
    } else {
      word = `${word ?? ''}${char}`;
      index++;
    }
  }
  endCommand();
  return index;
}

/** A "..." string from just after its opening quote: its text goes to `append`; a `$(...)` in it is a command too. Returns the index after the closing quote. */
function readDoubleQuoted(text: string, start: number, found: string[][], append: (part: string) => void): number {
  let index = start;
  while (index < text.length && text[index] !== '"') {
    if (text.startsWith('$(', index)) {
      const end = parseCommands(text, index + 2, ')', found);
      append(text.slice(index, end + 1));
      index = end + 1;
    } else if (text[index] === '\\') {
      append(text[index + 1] ?? '');
      index += 2;
    } else {
      append(text[index]!);
      index++;
    }
  }
  if (index >= text.length) throw new Error(`an unclosed " in: ${text}`);
  return index + 1;
}

/** The program a simple command runs: its first word after any `NAME=value` assignments. */
export function programOf(words: readonly string[]): { program: string | undefined; args: string[] } {
  const start = words.findIndex((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
  return start === -1 ? { program: undefined, args: [] } : { program: words[start], args: words.slice(start + 1) };
}
