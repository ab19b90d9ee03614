// The ways the READMEs type the memhub command (`memhub`, `pnpm -s memhub`, `npx --yes pnpm@10 -s
// memhub`, `npx memhub`, `npx @memhub/cli`), all run as the built bin: once statically, to know
// which programs a line runs before running it, and once as small executables on the PATH of the
// shell that runs the line. Both say the same thing; anything else pnpm or npx would do (install,
// fetch a package, run a script) is refused by the executables, so that a command the test does
// not know cannot reach the network or run the test suite from inside itself.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { programOf } from './readme-shell-commands.js';

/** Exit code of the wrappers when asked for something they do not run: neither memhub's codes (0-3, 130) nor a shell's (126, 127). */
export const REFUSED_EXIT_CODE = 97;

/** Programs the test lets a README line run as they are: standard tools that the READMEs pipe memhub through. */
const STANDARD_TOOLS = new Set(['git', 'jq', 'gzip', 'gunzip', 'zcat', 'cat', 'echo', 'head', 'tail', 'grep', 'wc', 'sort', 'ls', 'test', 'true']);

/** What one simple command of a README line is, to this test. */
export type Invocation =
  | { readonly kind: 'memhub'; readonly args: readonly string[] }
  | { readonly kind: 'tool'; readonly program: string }
  | { readonly kind: 'unknown'; readonly program: string };

/** Classifies a simple command's words (see simpleCommands). `xargs memhub restore` is memhub, which xargs runs. */
export function classifyInvocation(words: readonly string[]): Invocation {
  const { program, args } = programOf(words);
  if (program === undefined) return { kind: 'tool', program: '' };
  if (program === 'memhub') return { kind: 'memhub', args };
  if (program === 'pnpm' && args[0] === '-s' && args[1] === 'memhub') return { kind: 'memhub', args: args.slice(2) };
  if (program === 'npx') {
    const rest = args[0] === '--yes' || args[0] === '-y' ? args.slice(1) : args;
    if (rest[0] === 'memhub' || rest[0] === '@memhub/cli') return { kind: 'memhub', args: rest.slice(1) };
    if (/^pnpm(@\d+)?$/.test(rest[0] ?? '') && rest[1] === '-s' && rest[2] === 'memhub') return { kind: 'memhub', args: rest.slice(3) };
    return { kind: 'unknown', program: `npx ${args.join(' ')}` };
  }
  if (program === 'pnpm' || program === 'npm') return { kind: 'unknown', program: `${program} ${args.join(' ')}` };
  if (program === 'xargs') {
    const command = args.findIndex((arg) => !arg.startsWith('-'));
    return command === -1 ? { kind: 'tool', program } : classifyInvocation(args.slice(command));
  }
  return STANDARD_TOOLS.has(program) ? { kind: 'tool', program } : { kind: 'unknown', program };
}

/** A memhub invocation's command (`recall`), its `--dir` and its `--url`, as typed. */
export function memhubCommand(args: readonly string[]): { name: string | undefined; dir: string | undefined; url: string | undefined } {
  const valueOf = (long: string, short?: string): string | undefined => {
    for (let index = 0; index < args.length; index++) {
      const arg = args[index]!;
      if (arg === long || arg === short) return args[index + 1];
      if (arg.startsWith(`${long}=`)) return arg.slice(long.length + 1);
    }
    return undefined;
  };
  return { name: args.find((arg) => !arg.startsWith('-')), dir: valueOf('--dir', '-d'), url: valueOf('--url') };
}

/**
 * Writes `memhub`, `pnpm` and `npx` into `folder` (to be put first on PATH): `memhub` execs
 * `node <cli bin>`; `pnpm -s memhub ...` and `npx [--yes] pnpm@N -s memhub ...`, `npx memhub ...`
 * and `npx @memhub/cli ...` exec that `memhub`; anything else they refuse with REFUSED_EXIT_CODE
 * and a line saying so. Returns `folder`.
 */
export function writeCommandBin(folder: string, cliBin: string): string {
  mkdirSync(folder, { recursive: true });
  const write = (name: string, script: string): void => {
    writeFileSync(join(folder, name), script);
    chmodSync(join(folder, name), 0o755);
  };
  const refuse = (what: string): string =>
    `echo "readme-blocks test: \\\`${what} $*\\\` is not run by this test (only its memhub forms are): list the command in the test's NOT_RUN table, with the reason" >&2\nexit ${REFUSED_EXIT_CODE}\n`;
  write('memhub', `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(cliBin)} "$@"\n`);
  write('pnpm', `#!/bin/bash\nif [ "$1" = -s ] && [ "$2" = memhub ]; then shift 2; exec memhub "$@"; fi\n${refuse('pnpm')}`);
  write(
    'npx',
    [
      '#!/bin/bash',
      'all="$*"',
      'if [ "$1" = --yes ] || [ "$1" = -y ]; then shift; fi',
      'case "$1" in',
      '  memhub | @memhub/cli) shift; exec memhub "$@" ;;',
      '  pnpm | pnpm@[0-9]*) shift; exec pnpm "$@" ;;',
      'esac',
      refuse('npx').replace('$*', '$all'),
    ].join('\n'),
  );
  return folder;
}

/** `text` in single quotes for sh. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
