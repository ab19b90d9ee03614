import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, it } from 'vitest';
import { openStore } from '@memhub/store';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The `memhub` bin the package's manifest names, as a user's shell runs it: built JavaScript,
 * plain node. The tests start over a hundred commands, and this one starts in half the time of
 * the sources through tsx; test/support/build-packages-global-setup.ts builds it before these tests run, so
 * it is never older than the sources.
 */
export const MEMHUB_BIN = fileURLToPath(new URL('../../bin/memhub.js', import.meta.url));

/** The `memhub` command from its TypeScript sources, as `pnpm memhub` runs it. */
export const CLI_SOURCE_ENTRY = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));

/**
 * Node arguments that run the sources: the workspace packages' source condition, and tsx by
 * absolute URL, so that a command can run in any folder (a temp folder, for the default ./.memhub).
 */
export const SOURCE_NODE_ARGS = ['--conditions=@memhub/source', '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];

/** The node arguments that start the built `memhub` with these arguments. */
export function memhubArgs(args: readonly string[]): string[] {
  return [MEMHUB_BIN, ...args];
}

/** The node arguments that start `memhub` from its TypeScript sources with these arguments. */
export function memhubSourceArgs(args: readonly string[]): string[] {
  return [...SOURCE_NODE_ARGS, CLI_SOURCE_ENTRY, ...args];
}

export interface MemhubRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface MemhubRunOptions {
  /** Written to stdin, which is then closed (stdin is closed at once without it). */
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Run the TypeScript sources through tsx instead of the built bin. */
  readonly fromSources?: boolean;
}

/** Runs `memhub <args>` as a child process, as a user's shell would, and collects what it printed. */
export function runMemhub(args: readonly string[], options: MemhubRunOptions = {}): Promise<MemhubRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, options.fromSources === true ? memhubSourceArgs(args) : memhubArgs(args), {
      cwd: options.cwd ?? REPO_ROOT,
      env: cleanEnvironment(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`memhub ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms; stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input);
  });
}

/** This process's environment without memhub's own variables (a developer's MEMHUB_DIR must not leak in), plus `extra`. */
export function cleanEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['MEMHUB_DIR', 'MEMHUB_URL', 'MEMHUB_SCHEMA', 'MEMHUB_DEBUG', 'MEMHUB_FAULT']) delete env[name];
  return { ...env, ...extra };
}

/** Runs `memhub <args> --json`, expects exit code 0, and parses stdout. */
export async function memhubJson<T>(args: readonly string[], options: MemhubRunOptions = {}): Promise<T> {
  const run = await runMemhub([...args, '--json'], options);
  if (run.code !== 0) throw new Error(`memhub ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** Records in the store, read by opening it in the test process. */
export async function recordCount(dir: string): Promise<number> {
  const store = await openStore({ dir });
  try {
    return (await store.stats()).records;
  } finally {
    await store.close();
  }
}

/** A test's own temp folder. */
export interface TempFolder {
  readonly path: string;
  file(name: string): string;
}

function makeTempFolder(prefix: string): TempFolder & { remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A fresh temp folder for each test, removed after it (for files whose tests run one at a time). */
export function useTempFolder(prefix: string): TempFolder {
  let current: ReturnType<typeof makeTempFolder> | undefined;
  beforeEach(() => {
    current = makeTempFolder(prefix);
  });
  afterEach(() => {
    current?.remove();
    current = undefined;
  });
  const folder = () => {
    if (current === undefined) throw new Error('no temp folder outside a test');
    return current;
  };
  return {
    get path() {
      return folder().path;
    },
    file: (name: string) => folder().file(name),
  };
}

/**
 * `it` with a `temp` fixture: each test gets its own temp folder, removed after it. Unlike
 * useTempFolder, it is safe in tests that run concurrently (`cliTest.concurrent`): a command is
 * a process of its own, and a file's tests mostly wait for theirs, so several at once fill the
 * cores that one at a time leaves idle.
 */
export function cliTestWithTempFolder(prefix: string) {
  return it.extend<{ temp: TempFolder }>({
    temp: async ({}, use) => {
      const folder = makeTempFolder(prefix);
      try {
        await use(folder);
      } finally {
        folder.remove();
      }
    },
  });
}
