// The READMEs' TypeScript blocks as a project of their own, type-checked in one tsc run with the
// repository's compiler options, against the workspace packages as a user gets them (their
// exports' types: the built declarations); and a complete block run as a program with tsx.
//
// The project lives in a folder under test/ (test/.readme-blocks/, gitignored), where Node's
// resolution finds the workspace's node_modules (typescript, tsx, @types/node): its own
// node_modules/@memhub/* link to packages/*, so that '@memhub/lock', '@memhub/store' and
// '@memhub/cli' resolve there as in a project that installed them, each package's own dependencies
// found beside its real folder.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runProcess, type ProcessOutcome } from './run-process.js';

const require = createRequire(import.meta.url);

/** One file of the project: a README block, or a check made from one. */
export interface TypeScriptFile {
  /** The file name in the project folder (`packages-cli-README-L336.ts`). */
  readonly name: string;
  readonly source: string;
  /** For a block's own file: its line n is line `firstLine + n - 1 - preludeLines` of `readme`. A check made from a block has none. */
  readonly fromReadme?: { readonly readme: string; readonly firstLine: number; readonly preludeLines: number };
}

/** A compiler error, located in the README when it is in a block's own lines. */
export interface TypeScriptError {
  readonly file: string;
  readonly where: string;
  readonly message: string;
}

/**
 * Writes the project: package.json ("type": "module", as the READMEs' snippets assume), a
 * tsconfig that extends the repository's base config (strict, NodeNext, ...) without emitting, the
 * node_modules links, and the files.
 */
export function writeTypeScriptProject(folder: string, repoRoot: string, files: readonly TypeScriptFile[]): void {
  mkdirSync(join(folder, 'node_modules', '@memhub'), { recursive: true });
  for (const name of ['lock', 'store', 'cli']) symlinkSync(join(repoRoot, 'packages', name), join(folder, 'node_modules', '@memhub', name), 'dir');
  writeFileSync(join(folder, 'package.json'), `${JSON.stringify({ name: 'readme-blocks', private: true, type: 'module' }, null, 2)}\n`);
  const tsconfig = {
    extends: relative(folder, join(repoRoot, 'tsconfig.base.json')),
    compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false },
    // The top level only: run/ holds the programs as run, paths rewritten (see runTypeScriptProgram).
    include: ['*.ts'],
  };
  writeFileSync(join(folder, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  for (const file of files) writeFileSync(join(folder, file.name), file.source);
}

/** `tsc --noEmit -p` the project; its errors by file name ('' for errors outside the files, in a package's declarations say). */
export async function typeCheckProject(folder: string, files: readonly TypeScriptFile[]): Promise<Map<string, TypeScriptError[]>> {
  const tsc = require.resolve('typescript/bin/tsc');
  const outcome = await runProcess(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: folder, env: process.env, timeoutMs: 120_000 });
  const byName = new Map(files.map((file) => [file.name, file]));
  const errors = new Map<string, TypeScriptError[]>();
  let last: { file: string; error: TypeScriptError } | undefined;
  for (const line of outcome.stdout.split('\n')) {
    const located = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line);
    if (located === null) {
      // tsc indents the further lines of one message.
      if (last !== undefined && line.trim() !== '') {
        const list = errors.get(last.file)!;
        list[list.length - 1] = { ...last.error, message: `${last.error.message}\n${line}` };
        last = { file: last.file, error: list[list.length - 1]! };
      } else if (line.trim() !== '') {
        add(errors, '', { file: '', where: 'tsc', message: line });
      }
      continue;
    }
    const [, path = '', lineText = '0', column = '0', message = ''] = located;
    const file = byName.get(path);
    const fileLine = Number(lineText);
    const origin = file?.fromReadme;
    const where =
      origin === undefined
        ? `${path}:${lineText}:${column}`
        : fileLine > origin.preludeLines
          ? `${origin.readme}:${origin.firstLine + fileLine - 1 - origin.preludeLines}:${column}`
          : `${path}:${fileLine}:${column} (the prelude)`;
    // A check made from a block is generated code: its line says what the error is about.
    const generatedLine = file !== undefined && origin === undefined ? `\n    at: ${file.source.split('\n')[fileLine - 1]?.trim() ?? ''}` : '';
    const error: TypeScriptError = { file: file?.name ?? '', where, message: `${message}${generatedLine}` };
    add(errors, error.file, error);
    last = { file: error.file, error };
  }
  if (outcome.code !== 0 && errors.size === 0) add(errors, '', { file: '', where: 'tsc', message: `exit code ${outcome.code}\n${outcome.stdout}\n${outcome.stderr}` });
  return errors;
}

function add(errors: Map<string, TypeScriptError[]>, file: string, error: TypeScriptError): void {
  errors.set(file, [...(errors.get(file) ?? []), error]);
}

/** tsx's loader, as a file URL: `node --import <it>` runs TypeScript from any working folder. */
const TSX = pathToFileURL(require.resolve('tsx')).href;

/**
 * Writes `source` to run/<name> in the project (beside the block's type-checked file, so that its
 * imports resolve the same way) and runs it with `node --import tsx` in `cwd`.
 */
export function runTypeScriptProgram(
  projectFolder: string,
  name: string,
  source: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ProcessOutcome> {
  mkdirSync(join(projectFolder, 'run'), { recursive: true });
  const file = join(projectFolder, 'run', name);
  writeFileSync(file, source);
  return runProcess(process.execPath, ['--import', TSX, file], options);
}
