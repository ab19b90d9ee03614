// "The docs are true": every fenced code block of every README of the repository, read from the
// READMEs when the test runs (a block added tomorrow is tested tomorrow), is run or checked:
//
// - ```sh / ```bash: each command line runs with bash, in a temp folder of the block's own, with
//   `memhub` (and `pnpm -s memhub`, `npx memhub`, ...) on PATH as the built bin; it must exit 0 (or
//   the code its comment gives: `# exit code 3`), print the JSON its comment shows (`# {...}`),
//   and a `| jq ...` at its end must find something. A line the test does not know how to run fails
//   the test unless NOT_RUN lists it, with the reason.
// - ```ts: type-checked as a module against the workspace packages (tsc, the repository's compiler
//   options); a block that needs no prelude is then run with tsx in a temp folder.
// - ```json: parses; an MCP client configuration must start `memhub mcp`. ```jsonl: each line parses.
// - Everything else (text, a bare fence: diagrams, tables, sample output) is left alone, except
//   the outputs SHOWN_OUTPUTS compares with what the command printed.
//
// Each table below says what the test does differently for a block, and why; an entry that no
// longer matches any README fails the test, so that the tables stay true too.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { dropSchema, freshSchemaName, postgres } from '../packages/store/test/support/postgres.js';
import { blockName, findReadmes, readCodeBlocks, type CodeBlock } from './support/readme-code-blocks.js';
import { mcpConfigProblems } from './support/readme-mcp-config.js';
import { classifyInvocation, memhubCommand, writeCommandBin } from './support/readme-memhub-commands.js';
import { seededIds, seedStore } from './support/readme-seed-store.js';
import { commandLines, simpleCommands, type CommandLine } from './support/readme-shell-commands.js';
import { runShellLine, type ShellOutcome } from './support/readme-shell-run.js';
import { readShapes, shapeCheckSource } from './support/readme-type-shapes.js';
import { runTypeScriptProgram, typeCheckProject, writeTypeScriptProject, type TypeScriptError, type TypeScriptFile } from './support/readme-typescript.js';
import { tail } from './support/run-process.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The `memhub` bin as npm links it: it runs the build (packages/cli/dist), as an installed memhub does. */
const CLI_BIN = join(ROOT, 'packages/cli/bin/memhub.js');
/** One command line or program; the longest the READMEs run (ingest with 4 workers) takes a few seconds. */
const COMMAND_TIMEOUT_MS = 60_000;
const BLOCK_TIMEOUT_MS = 240_000;
/**
 * Blocks running at once. Each runs its lines one after another (they build on each other); a few
 * blocks at a time keep 2 cores busy without starving the test files that run beside this one.
 */
const BLOCKS_AT_ONCE = 3;

// ---------------------------------------------------------------------------------------------
// The tables
// ---------------------------------------------------------------------------------------------

type NotRun = { readonly command: string; readonly why: string } | { readonly typescript: string; readonly why: string };

/**
 * What the test does not run, and why: command lines (exactly as the README has them, without a
 * trailing comment) and TypeScript blocks (by a line they contain; those are still type-checked).
 */
const NOT_RUN: readonly NotRun[] = [
  {
    command: 'npx --yes pnpm@10 install && npx --yes pnpm@10 start',
    why: 'installs the workspace from the registry (better-sqlite3 compiles for a minute and a half) and runs examples/agents.ts: the workspace this test runs in is installed, and test/examples.test.ts runs the examples',
  },
  { command: 'npx --yes pnpm@10 test', why: 'the whole test suite, of which this test is a file: it would run itself' },
  {
    command: 'npx --yes pnpm@10 install && npx --yes pnpm@10 build',
    why: 'installs the workspace from the registry; `pnpm test` builds the packages itself (tsc -b in its typecheck)',
  },
  {
    command: 'npx --yes pnpm@10 -r --filter "./packages/*" pack --pack-destination /tmp/memhub-packs',
    why: 'test/packed-install.test.ts packs the three packages (into a temp folder of its own, not the shared /tmp/memhub-packs)',
  },
  {
    command: 'npm install /tmp/memhub-packs/memhub-lock-0.1.0.tgz /tmp/memhub-packs/memhub-store-0.1.0.tgz /tmp/memhub-packs/memhub-cli-0.1.0.tgz',
    why: 'installs the tarballs in a project of the reader\'s: test/packed-install.test.ts installs them with npm in a project of its own',
  },
  {
    command: 'npm approve-scripts better-sqlite3',
    why: "records the approval in that project's package.json, which does not exist here (the packed install test writes allowScripts into its own)",
  },
  { command: 'pnpm bench:lock', why: 'a benchmark: about 30 s of measuring that asserts nothing (bench/README.md: not part of pnpm test)' },
  { command: 'pnpm bench:store', why: 'a benchmark: five to six minutes, asserts nothing about time' },
  { command: 'pnpm bench:store --engine postgres', why: 'a benchmark: seven minutes, on the PostgreSQL server too' },
  { command: 'pnpm bench:recall', why: 'a benchmark: loads a million notes, asserts nothing about time' },
  { command: 'pnpm bench:recall --records 100000 --queries 100', why: 'a benchmark: a few minutes, asserts nothing about time' },
  { command: 'pnpm soak', why: 'the soak run: 10 minutes' },
  { command: 'pnpm soak --minutes 3', why: 'the soak run: 3 minutes' },
  {
    typescript: "openStore({ url: 'postgres://agent:secret@db.internal:5432/agents', schema: 'memhub' })",
    why: "type-checked, not run: it opens a store on the server db.internal in the schema 'memhub' (against the test server, the shared test database's own memhub schema) and shows the calls, not a program's end (the store is left open)",
  },
];

/**
 * README lines that are right but may fail today for a reason outside the README: a bug, named
 * here, that fails them now and then (it depends on timing), so that the suite does not fail at
 * random meanwhile. They run, and must exit as expected or fail the bug's way (`failsWith`, in
 * stderr); any other failure fails the test. Remove an entry once its bug is fixed.
 */
const KNOWN_FAILURES: readonly { readonly command: string; readonly failsWith: string; readonly why: string }[] = [];

/** Commands that run until Ctrl-C: the test interrupts them once they printed what shows they work. */
const RUN_UNTIL_INTERRUPTED: readonly { readonly command: RegExp; readonly interruptOnceStdoutHas: string; readonly why: string }[] = [
  {
    command: /\bmemhub locks\b.*--watch\b/,
    interruptOnceStdoutHas: 'locks of ',
    why: 'redraws the locks every second until Ctrl-C, which exits 0 (packages/cli/README.md): SIGINT once the first screen is out, exit code 0 expected',
  },
];

/** What a block that is a fragment needs before it, by its first line. Such blocks are type-checked, not run. */
const PRELUDES: readonly { readonly firstLine: string; readonly prelude: string; readonly why: string }[] = [
  {
    firstLine: "const from = await openStore({ dir: './memory' });",
    prelude: "import { openStore } from '@memhub/store';",
    why: "packages/store/README.md's move to PostgreSQL goes on from the block before it, which imports openStore",
  },
];

/** ```ts blocks that show a type's shape in a notation of their own: its fields must be the type's (readme-type-shapes.ts). */
const SHAPES: readonly { readonly contains: string; readonly type: string; readonly module: string; readonly why: string }[] = [
  {
    contains: 'staleMetadata: boolean',
    type: 'LockStatus',
    module: '@memhub/lock',
    why: "packages/lock/README.md's lockStatus(path) result (`path, state: 'free' | ...`, and `// HolderInfo: { pid, ... }`): not TypeScript, but its field lists must be LockStatus's and HolderInfo's",
  },
];

/**
 * Outputs a README shows for a command: the block whose first line starts with `firstLine`,
 * compared with what the command (a line of the same README matching `command`) printed in its run.
 */
const SHOWN_OUTPUTS: readonly {
  readonly firstLine: string;
  readonly command: RegExp;
  readonly compare: (shown: string, printed: string) => string[];
  readonly why: string;
}[] = [
  {
    firstLine: '{ "input":',
    command: /\bmemhub ingest\b.*--json\b/,
    compare: sameJsonFields,
    why: "`memhub ingest --json`'s summary: the values are the README's example run's, the fields must be those the command prints",
  },
  {
    firstLine: 'locks of ',
    command: /\bmemhub locks$/,
    compare: sameLocksTable,
    why: "`memhub locks`: the same columns, and a row for each lock file the README shows (the seeded store has them all)",
  },
];

/** The context a fixture decides by: the block's text, the programs its lines run, and its memhub commands' arguments. */
interface FixtureContext {
  readonly text: string;
  readonly programs: readonly string[];
  readonly memhubArgs: readonly (readonly string[])[];
}

/**
 * What a block's commands read, made in its folder before it runs. A fixture is made for every
 * block that needs it, whichever README the block is in.
 */
const FIXTURES: readonly { readonly name: string; readonly needed: (context: FixtureContext) => boolean; readonly create: (folder: string, context: FixtureContext) => Promise<void> | void; readonly why: string }[] = [
  {
    name: 'notes.jsonl',
    why: '`memhub ingest notes.jsonl` reads it: 40 remember inputs with keys, and one line that is not JSON, so that `--rejects rejects.jsonl` has a line to write (ingest still exits 0: the good lines were stored)',
    needed: ({ text }) => /\bnotes\.jsonl\b/.test(text),
    create: (folder) => writeFileSync(join(folder, 'notes.jsonl'), notesJsonl()),
  },
  {
    name: 'export.json',
    why: "`jq -c '{content: .text, tags: [.kind], key: .id}' export.json` reads it: JSON objects one after another (what jq reads), each with the id, text and kind the program picks",
    needed: ({ text }) => /\bexport\.json\b/.test(text),
    create: (folder) => writeFileSync(join(folder, 'export.json'), exportJson()),
  },
  {
    name: 'a git repository',
    why: '`git log -1 --format=%B | memhub remember --stdin --key "$(git rev-parse HEAD)"` runs in one: a repository with one commit (its author given here: HOME is the block\'s folder, with no git config)',
    needed: ({ programs }) => programs.includes('git'),
    create: (folder) => {
      const git = (...args: string[]): void => void execFileSync('git', ['-c', 'user.name=Ana', '-c', 'user.email=ana@example.com', ...args], { cwd: folder, env: commandEnv(folder), stdio: 'ignore' });
      git('init', '-q');
      git('commit', '-q', '--allow-empty', '-m', 'Deploy with Node 20');
    },
  },
  {
    name: 'the stores the commands read',
    why:
      'a command that reads a store (all but remember, ingest, import and mcp, which create one) exits 1 where there is none: each folder such a command names (--dir, else ./.memhub) gets the seeded store (readme-seed-store.ts: records for the id, tag, age and recall-count examples) unless an earlier command of the block made a store there; for `memhub rebuild` it is that store with its memory.db lost, the case the README runs it for',
    needed: ({ memhubArgs }) => storesToSeed(memhubArgs).length > 0,
    create: async (folder, { memhubArgs }) => {
      for (const { dir, memoryDbLost } of storesToSeed(memhubArgs)) {
        const path = dir.startsWith('~/') ? join(folder, dir.slice(2)) : join(folder, dir);
        await seedStore(path, { memoryDbLost });
      }
    },
  },
];

/**
 * Rewritten before a line runs, each for a reason:
 * - `0197a0c2-...`, an id cut short in the cli README's archive and restore examples: the seeded
 *   record whose id starts so, so that the command moves a record rather than none;
 * - a postgres:// URL (a server of the reader's): the test server's (MEMHUB_TEST_POSTGRES_URL),
 *   with MEMHUB_SCHEMA set to a fresh schema, dropped after; without a server such a line is
 *   skipped, and with MEMHUB_REQUIRE_POSTGRES=1 that fails.
 * And in a TypeScript block that is run: a path under /srv/ (a system folder the test cannot
 * write) becomes the same path under the block's temp folder, its parent folders created.
 */
const SHORTENED_ID = /\b([0-9a-f]{8})-\.\.\./g;
const POSTGRES_URL = /postgres(?:ql)?:\/\/[^\s'"]+/g;
const SYSTEM_PATH = /(['"`])\/srv\//g;

// ---------------------------------------------------------------------------------------------
// The READMEs, read now
// ---------------------------------------------------------------------------------------------

const READMES = findReadmes(ROOT);
const BLOCKS = READMES.flatMap((readme) => readCodeBlocks(ROOT, readme));
// Not `console`: such blocks mix `$ ` prompts with what the commands print.
const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell']);
const TYPESCRIPT_LANGUAGES = new Set(['ts', 'typescript', 'mts', 'tsx']);

/** `memhub`, `pnpm` and `npx` for the lines' PATH (readme-memhub-commands.ts). */
const COMMAND_BIN = writeCommandBin(join(mkdtempSync(join(tmpdir(), 'memhub-readme-bin-')), 'bin'), CLI_BIN);
/** The TypeScript blocks' project: under test/ so that the workspace's node_modules resolve (readme-typescript.ts). */
const TYPESCRIPT_PROJECT = join(ROOT, 'test', '.readme-blocks', `run-${process.pid}-${Date.now().toString(36)}`);

afterAll(() => {
  rmSync(join(COMMAND_BIN, '..'), { recursive: true, force: true });
  rmSync(TYPESCRIPT_PROJECT, { recursive: true, force: true });
  try {
    rmdirSync(join(TYPESCRIPT_PROJECT, '..'));
  } catch {
    // Another run's project is still there: it removes the folder when it ends.
  }
});

const runLimited = concurrencyLimit(BLOCKS_AT_ONCE);

describe('the tables of this test still describe the READMEs', () => {
  it('finds the READMEs (the root one among them) and their blocks', () => {
    expect(READMES).toContain('README.md');
    expect(BLOCKS.length).toBeGreaterThan(0);
  });

  it('every NOT_RUN entry is still in a README', () => {
    const shellCommands = new Set(BLOCKS.filter((block) => SHELL_LANGUAGES.has(block.language)).flatMap((block) => commandLines(block).map((line) => line.command)));
    const typeScript = BLOCKS.filter((block) => TYPESCRIPT_LANGUAGES.has(block.language));
    const stale = NOT_RUN.filter((entry) => ('command' in entry ? !shellCommands.has(entry.command) : !typeScript.some((block) => block.text.includes(entry.typescript))));
    expect(stale, 'these NOT_RUN entries match no README block any more: remove them (or update them to the README)').toEqual([]);
  });

  it('every KNOWN_FAILURES, RUN_UNTIL_INTERRUPTED, PRELUDES, SHAPES and SHOWN_OUTPUTS entry still matches a README block', () => {
    const shellLines = BLOCKS.filter((block) => SHELL_LANGUAGES.has(block.language)).flatMap((block) => commandLines(block).map((line) => ({ block, line })));
    const stale = [
      ...KNOWN_FAILURES.filter((entry) => !shellLines.some(({ line }) => line.command === entry.command)).map((entry) => `KNOWN_FAILURES ${entry.command}`),
      ...RUN_UNTIL_INTERRUPTED.filter((entry) => !shellLines.some(({ line }) => entry.command.test(line.command))).map((entry) => `RUN_UNTIL_INTERRUPTED ${entry.command}`),
      ...PRELUDES.filter((entry) => !BLOCKS.some((block) => TYPESCRIPT_LANGUAGES.has(block.language) && block.lines[0]?.trim() === entry.firstLine)).map((entry) => `PRELUDES ${entry.firstLine}`),
      ...SHAPES.filter((entry) => !BLOCKS.some((block) => TYPESCRIPT_LANGUAGES.has(block.language) && block.text.includes(entry.contains))).map((entry) => `SHAPES ${entry.contains}`),
      ...SHOWN_OUTPUTS.flatMap((entry) => {
        const shown = BLOCKS.filter((block) => startsWith(block, entry.firstLine));
        if (shown.length === 0) return [`SHOWN_OUTPUTS ${entry.firstLine}: no README block starts so`];
        return shown
          .filter((block) => !shellLines.some(({ block: shell, line }) => shell.readme === block.readme && entry.command.test(line.command) && notRunEntry(line) === undefined))
          .map((block) => `SHOWN_OUTPUTS ${entry.firstLine}: ${block.readme} runs no command matching ${entry.command} any more`);
      }),
    ];
    expect(stale, 'these entries match no README block any more: remove or update them').toEqual([]);
  });
});

for (const readme of READMES) {
  const blocks = BLOCKS.filter((block) => block.readme === readme);
  describe.concurrent(readme, () => {
    for (const block of blocks) {
      if (SHELL_LANGUAGES.has(block.language)) {
        it(`${blockName(block)} runs`, { timeout: BLOCK_TIMEOUT_MS }, () => runLimited(() => runShellBlock(block)));
      } else if (TYPESCRIPT_LANGUAGES.has(block.language)) {
        it(`${blockName(block)} type-checks${isRunnable(block) ? ' and runs' : ''}`, { timeout: BLOCK_TIMEOUT_MS }, () => runLimited(() => checkTypeScriptBlock(block)));
      } else if (block.language === 'json') {
        it(`${blockName(block)} parses${block.text.includes('mcpServers') ? ', and starts memhub mcp' : ''}`, () => {
          const parsed: unknown = JSON.parse(block.text);
          if (block.text.includes('mcpServers')) expect(mcpConfigProblems(parsed, ROOT), `${blockName(block)}: an MCP client configuration`).toEqual([]);
        });
      } else if (block.language === 'jsonl' || block.language === 'ndjson') {
        it(`${blockName(block)}: each line parses`, () => {
          block.lines.forEach((line, index) => {
            if (line.trim() !== '') expect(() => JSON.parse(line), `${block.readme}:${block.line + 1 + index}`).not.toThrow();
          });
        });
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Shell blocks
// ---------------------------------------------------------------------------------------------

/** A command line, and what the test does with it. */
interface PlannedLine {
  readonly line: CommandLine;
  readonly notRun: NotRun | undefined;
  readonly programs: readonly string[];
  readonly memhubArgs: readonly (readonly string[])[];
  /** The programs of the line the test neither runs nor lists. */
  readonly unknown: readonly string[];
}

function planLine(line: CommandLine): PlannedLine {
  const invocations = simpleCommands(line.command).map((words) => classifyInvocation(words));
  return {
    line,
    notRun: notRunEntry(line),
    programs: invocations.map((invocation) => (invocation.kind === 'memhub' ? 'memhub' : invocation.program)),
    memhubArgs: invocations.flatMap((invocation) => (invocation.kind === 'memhub' ? [invocation.args] : [])),
    unknown: invocations.flatMap((invocation) => (invocation.kind === 'unknown' ? [invocation.program] : [])),
  };
}

function notRunEntry(line: CommandLine): NotRun | undefined {
  return NOT_RUN.find((entry) => 'command' in entry && entry.command === line.command);
}

async function runShellBlock(block: CodeBlock): Promise<void> {
  const plan = commandLines(block).map(planLine);
  const unlisted = plan.filter((step) => step.notRun === undefined && step.unknown.length > 0);
  if (unlisted.length > 0) {
    throw new Error(
      `${blockName(block)} has commands this test neither runs nor lists in NOT_RUN:\n` +
        unlisted.map((step) => `  line ${step.line.readmeLine}: ${step.line.command}   (runs ${step.unknown.join(', ')})`).join('\n') +
        '\nTeach the test to run them (readme-memhub-commands.ts), or add them to NOT_RUN with the reason they cannot run in a test.',
    );
  }
  const toRun = plan.filter((step) => step.notRun === undefined);
  if (toRun.length === 0) return;
  const folder = mkdtempSync(join(tmpdir(), 'memhub-readme-block-'));
  let schema: string | undefined;
  try {
    await createFixtures(folder, { text: block.text, programs: toRun.flatMap((step) => step.programs), memhubArgs: toRun.flatMap((step) => step.memhubArgs) });
    const printed: { line: CommandLine; outcome: ShellOutcome }[] = [];
    for (const { line } of toRun) {
      const env = commandEnv(folder);
      let command = line.command.replace(SHORTENED_ID, (shortened, prefix: string) => seededIds().find((id) => id.startsWith(prefix)) ?? shortened);
      if (new RegExp(POSTGRES_URL.source).test(command)) {
        if (!postgres.available) {
          if (postgres.required) throw new Error(`${block.readme}:${line.readmeLine} needs the PostgreSQL server (MEMHUB_REQUIRE_POSTGRES=1), which cannot be reached: ${postgres.reason}`);
          console.warn(`${block.readme}:${line.readmeLine} skipped: no PostgreSQL server (${postgres.reason})`);
          continue;
        }
        schema ??= freshSchemaName();
        command = command.replace(POSTGRES_URL, postgres.url);
        env['MEMHUB_SCHEMA'] = schema;
      }
      const interrupted = RUN_UNTIL_INTERRUPTED.find((entry) => entry.command.test(line.command));
      const outcome = await runShellLine(command, {
        cwd: folder,
        env,
        timeoutMs: COMMAND_TIMEOUT_MS,
        ...(interrupted === undefined ? {} : { interruptWhen: (stdout: string) => stdout.includes(interrupted.interruptOnceStdoutHas) }),
      });
      if (interrupted !== undefined && !outcome.timedOut && !outcome.stdout.includes(interrupted.interruptOnceStdoutHas)) {
        throw new Error(`${block.readme}:${line.readmeLine} \`${line.command}\` ended by itself before printing "${interrupted.interruptOnceStdoutHas}" (RUN_UNTIL_INTERRUPTED: it runs until Ctrl-C)\nstdout:\n${tail(outcome.stdout)}\nstderr:\n${tail(outcome.stderr)}`);
      }
      checkCommandOutcome(block, line, command, outcome);
      printed.push({ line, outcome });
    }
    for (const shownOutput of SHOWN_OUTPUTS) {
      const run = printed.find(({ line }) => shownOutput.command.test(line.command));
      if (run === undefined) continue;
      for (const shown of BLOCKS.filter((candidate) => candidate.readme === block.readme && startsWith(candidate, shownOutput.firstLine))) {
        const problems = shownOutput.compare(shown.text, run.outcome.stdout);
        if (problems.length > 0) {
          throw new Error(`${blockName(shown)} shows what \`${run.line.command}\` (line ${run.line.readmeLine}) prints, but it printed otherwise:\n  ${problems.join('\n  ')}\nprinted:\n${tail(run.outcome.stdout)}`);
        }
      }
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
    if (schema !== undefined) await dropSchema(schema);
  }
}

/** Exit code as the comment says (`# exit code 3`), else 0; the JSON the comment shows (`# {"archived": 12}`); and a final `| jq` that finds something. */
function checkCommandOutcome(block: CodeBlock, line: CommandLine, ran: string, outcome: ShellOutcome): void {
  const where = `${block.readme}:${line.readmeLine} \`${line.command}\`${ran === line.command ? '' : ` (run as \`${ran}\`)`}`;
  const output = `\nstdout:\n${tail(outcome.stdout)}\nstderr:\n${tail(outcome.stderr)}`;
  if (outcome.timedOut) throw new Error(`${where} did not finish in ${COMMAND_TIMEOUT_MS / 1000} s (killed)${output}`);
  const knownFailure = KNOWN_FAILURES.find((entry) => entry.command === line.command);
  if (knownFailure !== undefined && outcome.code !== 0 && outcome.stderr.includes(knownFailure.failsWith)) {
    console.warn(`${where} failed with its known bug (KNOWN_FAILURES: ${knownFailure.failsWith})`);
    return;
  }
  const expectedCode = Number(/\bexit(?:s| code)?\s+(\d+)\b/i.exec(line.comment ?? '')?.[1] ?? 0);
  if (outcome.code !== expectedCode || outcome.signal !== null) {
    throw new Error(`${where} exited with code ${outcome.code}${outcome.signal === null ? '' : ` (signal ${outcome.signal})`}, expected ${expectedCode}${output}`);
  }
  const shownJson = parseJson(line.comment?.trim() ?? '');
  if (shownJson !== undefined) {
    const printedJson = parseJson(outcome.stdout.trim());
    expect(printedJson, `${where}: its comment shows what it prints (on the seeded store of readme-seed-store.ts)${output}`).toEqual(shownJson);
  }
  const last = simpleCommands(line.command).at(-1);
  if (last?.[0] === 'jq') {
    const found = outcome.stdout.split('\n').filter((text) => text.trim() !== '' && text.trim() !== 'null');
    if (found.length === 0) throw new Error(`${where}: jq found nothing (a field the command does not print, or no record)${output}`);
  }
}

function parseJson(text: string): unknown {
  if (!/^[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A command's environment: the user's, without memhub's own variables (a store chosen elsewhere), HOME the block's folder (for `~`), and the memhub wrappers first on PATH. */
function commandEnv(folder: string): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('MEMHUB_') && name !== 'INIT_CWD' && name !== 'NODE_OPTIONS');
  return { ...Object.fromEntries(inherited), HOME: folder, PATH: `${COMMAND_BIN}:${process.env['PATH'] ?? ''}`, NO_COLOR: '1', GIT_CONFIG_NOSYSTEM: '1' };
}

async function createFixtures(folder: string, context: FixtureContext): Promise<void> {
  for (const fixture of FIXTURES) if (fixture.needed(context)) await fixture.create(folder, context);
}

/** The store folders (relative, or under ~) a block's memhub commands read before any of them created one there. */
function storesToSeed(memhubArgs: readonly (readonly string[])[]): { dir: string; memoryDbLost: boolean }[] {
  const createsStore = new Set(['remember', 'ingest', 'import', 'mcp']);
  const made = new Set<string>();
  const seed: { dir: string; memoryDbLost: boolean }[] = [];
  for (const args of memhubArgs) {
    const { name, dir, url } = memhubCommand(args);
    if (name === undefined || args.includes('--help') || args.includes('-h') || (url !== undefined && dir === undefined)) continue;
    const target = (dir ?? './.memhub').replace(/^\.\//, '');
    if (isAbsolute(target) || made.has(target)) continue;
    made.add(target);
    if (!createsStore.has(name)) seed.push({ dir: target, memoryDbLost: name === 'rebuild' });
  }
  return seed;
}

function notesJsonl(): string {
  const notes = Array.from({ length: 40 }, (_, n) => JSON.stringify({ content: `Note ${n + 1}: the deploy needs Node 20`, tags: ['notes'], contextPath: '/projects/api', key: `note-${n + 1}` }));
  notes.splice(20, 0, 'this line is not JSON');
  return `${notes.join('\n')}\n`;
}

function exportJson(): string {
  const kinds = ['runbook', 'decision', 'incident'];
  return Array.from({ length: 6 }, (_, n) => JSON.stringify({ id: `doc-${n + 1}`, text: `Exported note ${n + 1}`, kind: kinds[n % kinds.length] }, null, 2)).join('\n') + '\n';
}

function startsWith(block: CodeBlock, firstLine: string): boolean {
  return block.lines.find((line) => line.trim() !== '')?.trimStart().startsWith(firstLine) === true;
}

/** The shown JSON and the printed JSON have the same fields (the values are the shown run's). */
function sameJsonFields(shown: string, printed: string): string[] {
  const shownFields = Object.keys(JSON.parse(shown) as object).sort();
  const printedJson = parseJson(printed.trim());
  if (typeof printedJson !== 'object' || printedJson === null) return ['it printed no JSON object'];
  const printedFields = Object.keys(printedJson).sort();
  return [
    ...shownFields.filter((field) => !printedFields.includes(field)).map((field) => `shown, not printed: "${field}"`),
    ...printedFields.filter((field) => !shownFields.includes(field)).map((field) => `printed, not shown: "${field}"`),
  ];
}

/** `memhub locks`: the header's columns, and the lock files of the shown rows. */
function sameLocksTable(shown: string, printed: string): string[] {
  const shownLines = shown.trimEnd().split('\n');
  const printedLines = printed.trimEnd().split('\n');
  const columns = (line: string | undefined): string => (line ?? '').trim().split(/\s+/).join(' ');
  const problems: string[] = [];
  if (!printedLines[0]?.startsWith('locks of ')) problems.push(`the first line is not "locks of <folder>": ${printedLines[0] ?? ''}`);
  if (columns(shownLines[1]) !== columns(printedLines[1])) problems.push(`columns shown: ${columns(shownLines[1])}; printed: ${columns(printedLines[1])}`);
  const printedLocks = new Set(printedLines.slice(2).map((line) => line.trim().split(/\s+/)[0]));
  for (const line of shownLines.slice(2)) {
    const lock = line.trim().split(/\s+/)[0];
    if (lock !== undefined && lock !== '' && !printedLocks.has(lock)) problems.push(`no row for ${lock}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// TypeScript blocks
// ---------------------------------------------------------------------------------------------

/** The file each TypeScript block is type-checked as: the block with its prelude, or its shapes' check. */
const TYPESCRIPT_FILES = new Map<CodeBlock, TypeScriptFile>(
  BLOCKS.filter((block) => TYPESCRIPT_LANGUAGES.has(block.language)).map((block) => {
    const name = `${block.readme.replace(/[^A-Za-z0-9]+/g, '-')}-L${block.line}.ts`;
    const shape = SHAPES.find((entry) => block.text.includes(entry.contains));
    if (shape !== undefined) {
      const source = readShapes(block.text, shape.type)
        .map((found) => shapeCheckSource(found, shape.module))
        .join('\n');
      return [block, { name, source }];
    }
    const prelude = preludeOf(block);
    const preludeText = prelude === undefined ? '' : `${prelude.prelude}\n`;
    // `export {}`: a module, whatever the block holds, so that its top-level await and names are its own.
    const source = `${preludeText}${block.text}export {};\n`;
    return [block, { name, source, fromReadme: { readme: block.readme, firstLine: block.line + 1, preludeLines: preludeText.split('\n').length - 1 } }];
  }),
);

let typeCheck: Promise<Map<string, TypeScriptError[]>> | undefined;

/** One tsc run for every block, started by the first TypeScript test that needs it. */
function typeCheckOnce(): Promise<Map<string, TypeScriptError[]>> {
  typeCheck ??= (async () => {
    const files = [...TYPESCRIPT_FILES.values()];
    writeTypeScriptProject(TYPESCRIPT_PROJECT, ROOT, files);
    return typeCheckProject(TYPESCRIPT_PROJECT, files);
  })();
  return typeCheck;
}

function preludeOf(block: CodeBlock): (typeof PRELUDES)[number] | undefined {
  return PRELUDES.find((entry) => block.lines[0]?.trim() === entry.firstLine);
}

/** Run after the type-check: a block that is a program on its own (no prelude, not a shape), not listed in NOT_RUN. */
function isRunnable(block: CodeBlock): boolean {
  const listed = NOT_RUN.some((entry) => 'typescript' in entry && block.text.includes(entry.typescript));
  return !listed && preludeOf(block) === undefined && !SHAPES.some((entry) => block.text.includes(entry.contains));
}

async function checkTypeScriptBlock(block: CodeBlock): Promise<void> {
  const file = TYPESCRIPT_FILES.get(block)!;
  const errors = await typeCheckOnce();
  const found = [...(errors.get(file.name) ?? []), ...(errors.get('') ?? [])];
  if (found.length > 0) {
    const shapeNote = SHAPES.some((entry) => block.text.includes(entry.contains)) ? `\n(the block's fields against the type, as checked by:\n${file.source})` : '';
    throw new Error(`${blockName(block)} does not type-check:\n${found.map((error) => `  ${error.where}: ${error.message}`).join('\n')}${shapeNote}`);
  }
  if (!isRunnable(block)) return;
  const folder = mkdtempSync(join(tmpdir(), 'memhub-readme-program-'));
  try {
    // runCli([...]) runs memhub as its command line would: the same stores to seed.
    const runCliArgs = [...block.text.matchAll(/runCli\(\[([^\]]*)\]/g)].map((call) => [...call[1]!.matchAll(/'([^']*)'|"([^"]*)"/g)].map((literal) => literal[1] ?? literal[2] ?? ''));
    await createFixtures(folder, { text: block.text, programs: [], memhubArgs: runCliArgs });
    const source = block.text.replace(SYSTEM_PATH, (_, quote: string) => `${quote}${folder}/srv/`);
    for (const path of source.matchAll(new RegExp(`${escapeRegExp(folder)}/srv/[^'"\`\\s]*`, 'g'))) mkdirSync(join(path[0], '..'), { recursive: true });
    const outcome = await runTypeScriptProgram(TYPESCRIPT_PROJECT, file.name, source, { cwd: folder, env: commandEnv(folder), timeoutMs: COMMAND_TIMEOUT_MS });
    if (outcome.code !== 0 || outcome.signal !== null) {
      throw new Error(`${blockName(block)}, run as a program (node --import tsx, in ${folder}), exited with code ${outcome.code} (signal ${outcome.signal})\nstdout:\n${tail(outcome.stdout)}\nstderr:\n${tail(outcome.stderr)}`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Runs at most `slots` of the functions given at once, the others waiting their turn in order. */
function concurrencyLimit(slots: number): <T>(run: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (run) => {
    while (active >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await run();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

// The lines run the built bin and the blocks import the built packages. In a whole run the
// 'built' project's global setup has built them before any test starts (vitest sets up every
// project of a run first, and `pnpm test`'s typecheck builds too); a run of this file alone needs
// `pnpm build` first. Said once, plainly, rather than by every block failing its own way.
if (!existsSync(join(ROOT, 'packages/cli/dist/bin.js'))) throw new Error('packages/cli is not built: run `pnpm build` first');
