// The fenced code blocks of the repository's READMEs, read when the test runs: the docs test checks
// what the READMEs say today, including a README or a block added since the test was written.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One fenced block of a README. */
export interface CodeBlock {
  /** The README, relative to the repository root (`packages/cli/README.md`). */
  readonly readme: string;
  /** The 1-based line of the opening fence in the README. */
  readonly line: number;
  /** The first word of the info string, lower-cased (`sh`, `ts`, `json`); '' for a bare fence. */
  readonly language: string;
  /** The lines between the fences, the fence's own indentation removed. */
  readonly lines: readonly string[];
  readonly text: string;
}

/** Folders no README of the repository's own is in: installed packages, build output, git and the test's scratch folders. */
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', '.git', 'coverage']);

/** Every README.md of the repository (`**\/README.md` without node_modules, dist and dot-folders), sorted. */
export function findReadmes(root: string): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name) && !entry.name.startsWith('.')) walk(join(folder, entry.name));
      } else if (entry.isFile() && entry.name.toLowerCase() === 'readme.md') {
        found.push(relative(root, join(folder, entry.name)));
      }
    }
  };
  walk(root);
  return found.sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

/**
 * The fenced blocks of one README (CommonMark's ``` and ~~~ fences, three or more, indented or
 * not, e.g. inside a list item). A fence closes on a line of the same character, at least as long,
 * and nothing else; an unclosed block runs to the end of the file, as Markdown renders it.
 */
export function readCodeBlocks(root: string, readme: string): CodeBlock[] {
  const lines = readFileSync(join(root, readme), 'utf8').split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[index]!);
    if (open === null) continue;
    const [, indent = '', fence = '', info = ''] = open;
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length; end++) {
      const candidate = lines[end]!.trim();
      if (candidate.startsWith(fence) && new RegExp(`^\\${fence[0]}+$`).test(candidate)) break;
      const line = lines[end]!;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    blocks.push({ readme, line: index + 1, language: info.toLowerCase(), lines: body, text: `${body.join('\n')}\n` });
    index = end;
  }
  return blocks;
}

/** `packages/cli/README.md:229 (sh)`: where a block is, for test names and messages. */
export function blockName(block: CodeBlock): string {
  return `${block.readme}:${block.line} (${block.language === '' ? 'no language' : block.language})`;
}
