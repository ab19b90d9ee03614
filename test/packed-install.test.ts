// The packages as a user gets them: `pnpm pack`ed from the built workspace, installed with plain
// npm into a fresh project outside the workspace (dependencies from the registry), and used there
// by plain node programs, by the `memhub` bin through npx, and by the README's snippet compiled
// with tsc against the installed declarations. What the workspace's links, devDependencies and
// source condition hide (a file left out of `files`, a dependency declared only for development,
// a `workspace:*` left in a manifest, a .d.ts that needs types nobody installs) fails here.
//
// The default run installs with install scripts skipped and copies in the workspace's compiled
// better-sqlite3 (support/packed-project.ts says why); MEMHUB_PACKED_FULL_INSTALL=1 installs as a
// user does, better-sqlite3 compiling from source.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGatedProcess, type GatedProcess } from './support/gated-process.js';
import { buildPackages, entryPoints, packPackages, readPackageJson, type PackedPackage } from './support/packed-packages.js';
import { FULL_INSTALL_VARIABLE, installPackedProject, memhubSources } from './support/packed-project.js';
import { readmeCodeBlock } from './support/readme-snippet.js';
import { assertSucceeded, runProcess, tail, type ProcessOutcome } from './support/run-process.js';
import { undeclaredImports } from './support/undeclared-imports.js';
import { userEnvironment } from './support/user-environment.js';

const WORKSPACE_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Plain JS programs copied into the project and run there: they import the packages by name. */
const PROGRAMS_SOURCE = fileURLToPath(new URL('./fixtures/packed/', import.meta.url));
const PROGRAMS = ['writer.mjs', 'thread-writers.mjs', 'check-store.mjs'];
const FULL_INSTALL = process.env[FULL_INSTALL_VARIABLE] === '1';

const WRITER_THREADS = 8;
const WRITER_PROCESSES = 4;
const RECORDS_EACH = 20;

/** Generous: npm install fetches from the registry, and a 2-core machine may be running the rest of the suite beside this. */
const INSTALL_TIMEOUT_MS = FULL_INSTALL ? 900_000 : 420_000;
const STEP_TIMEOUT_MS = 240_000;

/** What check-store.mjs prints. */
interface StoreCheck {
  readonly records: readonly { readonly id: string; readonly content: string }[];
  readonly verify: { readonly ok: boolean; readonly problems: readonly unknown[]; readonly records: number };
  readonly integrity: string;
}

/** What writer.mjs reports, and what thread-writers.mjs reports for each of its threads. */
interface WriterReport {
  readonly writer: string;
  readonly ids: readonly string[];
}
interface ThreadState {
  readonly writer: string;
  readonly result: WriterReport | null;
  readonly error: string | null;
  readonly exitCode: number | null;
}

let temp: string | undefined;
let project: string;
let packed: PackedPackage[];
/** Set by a failed test or setup: the temp folder is then kept, and its path printed. */
let keepForInspection = false;

function lastLine(output: string): string {
  return output.trimEnd().split('\n').at(-1) ?? '';
}

/** The JSON of a program's last line of output, or undefined if it ended without printing one. */
function parseLastLine<T>(outcome: ProcessOutcome): T | undefined {
  try {
    return JSON.parse(lastLine(outcome.stdout)) as T;
  } catch {
    return undefined;
  }
}

function processReport(outcome: ProcessOutcome, what: string): string {
  return `${what}: exit code ${outcome.code}, signal ${outcome.signal}\nstdout:\n${tail(outcome.stdout)}\nstderr:\n${tail(outcome.stderr)}`;
}

/** Runs one of the copied programs with plain node in the project, as the user's own program. */
async function runProgram(program: string, args: readonly string[], cwd = project): Promise<ProcessOutcome> {
  return runProcess(process.execPath, [join(project, 'programs', program), ...args], { cwd, env: userEnvironment(WORKSPACE_ROOT), timeoutMs: STEP_TIMEOUT_MS });
}

async function checkStore(dir: string): Promise<StoreCheck> {
  const checked = await runProgram('check-store.mjs', [dir]);
  assertSucceeded(checked, `check-store.mjs ${dir}`);
  return JSON.parse(lastLine(checked.stdout)) as StoreCheck;
}

describe('the packages as published: packed, installed with npm into a project of their own', { timeout: STEP_TIMEOUT_MS }, () => {
  beforeAll(async () => {
    temp = mkdtempSync(join(tmpdir(), 'memhub-packed-install-'));
    try {
      await buildPackages(WORKSPACE_ROOT);
      const tarballs = join(temp, 'tarballs');
      mkdirSync(tarballs);
      packed = await packPackages(WORKSPACE_ROOT, tarballs);
      project = join(temp, 'project');
      await installPackedProject({ workspaceRoot: WORKSPACE_ROOT, project, tarballs: packed, fullInstall: FULL_INSTALL, timeoutMs: INSTALL_TIMEOUT_MS });
      mkdirSync(join(project, 'programs'));
      for (const program of PROGRAMS) copyFileSync(join(PROGRAMS_SOURCE, program), join(project, 'programs', program));
    } catch (error) {
      keepForInspection = true;
      throw error;
    }
  }, INSTALL_TIMEOUT_MS + 120_000);

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      keepForInspection = true;
    });
  });

  afterAll(() => {
    if (temp === undefined) return;
    if (keepForInspection) console.warn(`packed-install: kept the packed project for a look: ${temp}`);
    else rmSync(temp, { recursive: true, force: true });
  });

  it('each tarball holds its built code, bin and declarations, no tests, and names its workspace dependencies by version', () => {
    const problems: string[] = [];
    for (const { folder, files, manifest } of packed) {
      const workspaceManifest = readPackageJson(join(WORKSPACE_ROOT, 'packages', folder, 'package.json'));
      if (manifest.name !== workspaceManifest.name || manifest.version !== workspaceManifest.version) problems.push(`${folder}: packed as ${manifest.name}@${manifest.version}`);
      if (JSON.stringify(manifest).includes('workspace:')) problems.push(`${manifest.name}: a workspace: range is left in its package.json`);
      for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
        if (!name.startsWith('@memhub/')) continue;
        const sibling = readPackageJson(join(WORKSPACE_ROOT, 'packages', name.slice('@memhub/'.length), 'package.json'));
        if (range !== sibling.version) problems.push(`${manifest.name}: depends on ${name}@${range}, the workspace's is ${sibling.version}`);
      }
      // Every path the exports map (each condition, @memhub/source's included) and bin name must
      // be in the tarball: a user's resolver may take any of them.
      for (const { via, path } of entryPoints(manifest)) if (!files.includes(path)) problems.push(`${manifest.name}: ${via} -> ${path}, not in the tarball`);
      for (const required of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
        if (!files.includes(required)) problems.push(`${manifest.name}: ${required} is not in the tarball`);
      }
      const tests = files.filter((file) => /(^|\/)(test|tests|__tests__|fixtures)\//.test(file) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(file));
      if (tests.length > 0) problems.push(`${manifest.name}: test files in the tarball: ${tests.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('npm took the @memhub packages from the tarballs, and their code imports only what they declare', () => {
    const expected = Object.fromEntries(packed.map(({ manifest, tarball }) => [`node_modules/${manifest.name}`, `file:../tarballs/${basename(tarball)}`]));
    // One entry each, and no second copy nested anywhere (which npm would have taken from the registry).
    expect(memhubSources(project)).toEqual(expected);
    const undeclared = packed.flatMap(({ manifest }) => {
      const installed = join(project, 'node_modules', manifest.name);
      return undeclaredImports(installed, ['dist', 'bin'].filter((folder) => existsSync(join(installed, folder))), manifest);
    });
    expect(undeclared, 'imported by the published JavaScript but not in dependencies or peerDependencies').toEqual([]);
  });

  it(`${WRITER_THREADS} worker threads and ${WRITER_PROCESSES} processes remember ${RECORDS_EACH} records each on one store at once: every record there once, verify() and integrity_check ok`, async () => {
    const store = join(project, 'shared-store');
    const env = userEnvironment(WORKSPACE_ROOT);
    const programs = join(project, 'programs');
    const started: { name: string; writer: GatedProcess }[] = [
      {
        name: `thread-writers.mjs (${WRITER_THREADS} threads)`,
        writer: startGatedProcess('thread-writers.mjs', [join(programs, 'thread-writers.mjs'), JSON.stringify({ dir: store, threads: WRITER_THREADS, records: RECORDS_EACH })], { cwd: project, env }),
      },
      ...Array.from({ length: WRITER_PROCESSES }, (_, index) => ({
        name: `writer.mjs process-${index}`,
        writer: startGatedProcess(`process-${index}`, [join(programs, 'writer.mjs'), JSON.stringify({ dir: store, writer: `process-${index}`, records: RECORDS_EACH })], { cwd: project, env }),
      })),
    ];
    let outcomes: ProcessOutcome[];
    try {
      // Every writer has opened the store before any writes: their writes overlap.
      await Promise.all(started.map(({ writer }) => writer.ready));
      for (const { writer } of started) writer.go();
      outcomes = await Promise.all(started.map(({ writer }) => writer.outcome));
    } finally {
      for (const { writer } of started) writer.kill();
    }

    // The threads' own account first, when their process lived to print it: it names the thread that failed, and why.
    const threads = parseLastLine<ThreadState[]>(outcomes[0]!);
    if (threads !== undefined) {
      expect(threads.map(({ writer, exitCode, error }) => ({ writer, exitCode, error }))).toEqual(
        Array.from({ length: WRITER_THREADS }, (_, index) => ({ writer: `thread-${index}`, exitCode: 0, error: null })),
      );
    }
    // No crash: every process exited 0, none by a signal (a native fault in a worker thread kills its whole process).
    for (const [index, outcome] of outcomes.entries()) expect({ code: outcome.code, signal: outcome.signal }, processReport(outcome, started[index]!.name)).toEqual({ code: 0, signal: null });
    expect(threads, 'thread-writers.mjs printed no report of its threads').toBeDefined();
    const reports = [...threads!.map(({ result }) => result!), ...outcomes.slice(1).map((outcome) => JSON.parse(lastLine(outcome.stdout)) as WriterReport)];

    // What each writer was told was stored: record i of writer w has content `w record i`.
    const acknowledged = reports.flatMap(({ writer, ids }) => {
      expect(ids, writer).toHaveLength(RECORDS_EACH);
      return ids.map((id, index) => ({ id, content: `${writer} record ${index}` }));
    });
    const total = (WRITER_THREADS + WRITER_PROCESSES) * RECORDS_EACH;
    expect(new Set(acknowledged.map(({ id }) => id)).size).toBe(total);

    const checked = await checkStore(store);
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    // Exactly the acknowledged records, each once: nothing lost, nothing doubled, no content mixed up.
    expect([...checked.records].sort(byId)).toEqual([...acknowledged].sort(byId));
    expect(checked.verify).toEqual({ ok: true, problems: [], records: total });
    expect(checked.integrity).toBe('ok');
  });

  it('the memhub bin runs from the install through npx, with no network', async () => {
    // Offline: npx must find memhub in the project's node_modules/.bin, never fetch a package.
    const env = userEnvironment(WORKSPACE_ROOT, { npm_config_offline: 'true' });
    const npx = async (...args: string[]) => {
      const outcome = await runProcess('npx', args, { cwd: project, env, timeoutMs: STEP_TIMEOUT_MS });
      assertSucceeded(outcome, `npx ${args.join(' ')}`);
      return outcome.stdout;
    };
    const store = join(project, 'cli-store');
    const cli = packed.find(({ folder }) => folder === 'cli')!.manifest;
    expect((await npx('memhub', '--version')).trim()).toBe(cli.version);
    const remembered = await npx('memhub', 'remember', 'hello', '--dir', store);
    const id = remembered.match(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/)?.[0];
    expect(id, `no record id in: ${remembered}`).toBeDefined();
    const recalled = JSON.parse(await npx('memhub', 'recall', 'hello', '--dir', store, '--json')) as { id: string; content: string }[];
    expect(recalled.map(({ id, content }) => ({ id, content }))).toEqual([{ id, content: 'hello' }]);
    // By the package's name, as an MCP client configuration or a README would call it.
    expect((await npx('@memhub/cli', '--version')).trim()).toBe(cli.version);
  });

  it('memhub mcp serves from the install: initialize, the eleven tools, a recall, over stdio', async () => {
    const env = userEnvironment(WORKSPACE_ROOT, { npm_config_offline: 'true' });
    const store = join(project, 'mcp-store');
    const server = spawn('npx', ['memhub', 'mcp', '--dir', store], { cwd: project, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    server.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const answers = new Map<number, { result?: Record<string, unknown>; error?: unknown }>();
    const waiting = new Map<number, () => void>();
    createInterface({ input: server.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { id?: number; result?: Record<string, unknown>; error?: unknown };
      if (typeof message.id !== 'number') return;
      answers.set(message.id, message);
      waiting.get(message.id)?.();
    });
    const timer = setTimeout(() => server.kill('SIGKILL'), STEP_TIMEOUT_MS);
    let nextId = 0;
    const request = async (method: string, params: Record<string, unknown>) => {
      nextId += 1;
      const id = nextId;
      const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
      server.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
      await answered;
      const answer = answers.get(id)!;
      expect(answer.error, `${method}: ${JSON.stringify(answer.error)}\n${stderr}`).toBeUndefined();
      return answer.result!;
    };
    try {
      const initialized = await request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'packed-install-test', version: '1' } });
      expect(initialized).toMatchObject({ serverInfo: { name: 'memhub' } });
      server.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
      const { tools } = (await request('tools/list', {})) as { tools: { name: string }[] };
      expect(tools.map((tool) => tool.name).sort()).toEqual(['archive', 'forget', 'get', 'history', 'list', 'maintain', 'recall', 'remember', 'restore', 'stats', 'update']);
      const remembered = (await request('tools/call', { name: 'remember', arguments: { content: 'served from the tarball' } })) as { structuredContent: { id: string; created: boolean } };
      expect(remembered.structuredContent.created).toBe(true);
      const recalled = (await request('tools/call', { name: 'recall', arguments: { query: 'tarball' } })) as { structuredContent: { records: { id: string }[] } };
      expect(recalled.structuredContent.records.map((record) => record.id)).toEqual([remembered.structuredContent.id]);
    } finally {
      server.stdin.end();
      const [code] = (await once(server, 'close')) as [number | null];
      clearTimeout(timer);
      expect(code, stderr).toBe(0);
    }
  });

  it("the README's store snippet type-checks against the installed declarations and runs", async () => {
    const folder = join(project, 'readme');
    mkdirSync(folder);
    writeFileSync(join(folder, 'snippet.ts'), readmeCodeBlock(join(WORKSPACE_ROOT, 'README.md'), '## The store at a glance', 'ts'));
    // Every entry point's declarations, beside the snippet: all of them must compile for a user.
    writeFileSync(join(folder, 'entry-points.ts'), ["export type * as lock from '@memhub/lock';", "export type * as store from '@memhub/store';", "export type * as cli from '@memhub/cli';", ''].join('\n'));
    // A user's minimal strict configuration; skipLibCheck is off (tsc's default), so the installed
    // .d.ts files are checked too, with only the types installed beside them.
    const compilerOptions = { module: 'NodeNext', target: 'ES2022', strict: true, types: ['node'], outDir: 'dist', noEmitOnError: true };
    writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['snippet.ts', 'entry-points.ts'] }, null, 2));
    const tsc = createRequire(join(WORKSPACE_ROOT, 'package.json')).resolve('typescript/bin/tsc');
    const compiled = await runProcess(process.execPath, [tsc, '-p', folder], { cwd: project, env: userEnvironment(WORKSPACE_ROOT), timeoutMs: STEP_TIMEOUT_MS });
    assertSucceeded(compiled, 'tsc -p readme (the README snippet against the installed packages)');

    // The snippet opens './memory': it runs in a folder of its own, and leaves a sound store there.
    const runFolder = join(project, 'readme-run');
    mkdirSync(runFolder);
    const ran = await runProcess(process.execPath, [join(folder, 'dist', 'snippet.js')], { cwd: runFolder, env: userEnvironment(WORKSPACE_ROOT), timeoutMs: STEP_TIMEOUT_MS });
    assertSucceeded(ran, 'node readme/dist/snippet.js');
    const checked = await checkStore(join(runFolder, 'memory'));
    expect(checked.verify.ok, JSON.stringify(checked.verify.problems)).toBe(true);
    expect(checked.integrity).toBe('ok');
  });
});
