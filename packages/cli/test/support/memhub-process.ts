import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach } from 'vitest';
import { openStore } from '@memhub/store';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The `memhub` command from its TypeScript sources, as the tests run it. */
export const CLI_ENTRY = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));

/**
 * Node arguments that run the sources: the workspace packages' source condition, and tsx by
 * absolute URL, so that a command can run in any folder (a temp folder, for the default ./.memhub).
 */
export const SOURCE_NODE_ARGS = ['--conditions=@memhub/source', '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];

/** The node arguments that start `memhub` with these arguments. */
export function memhubArgs(args: readonly string[]): string[] {
  return [...SOURCE_NODE_ARGS, CLI_ENTRY, ...args];
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
}

/** Runs `memhub <args>` as a child process, as a user's shell would, and collects what it printed. */
export function runMemhub(args: readonly string[], options: MemhubRunOptions = {}): Promise<MemhubRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, memhubArgs(args), {
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

/** A fresh temp folder for each test, removed after it. */
export function useTempFolder(prefix: string): { readonly path: string; file(name: string): string } {
  let current: string | undefined;
  beforeEach(() => {
    current = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    if (current !== undefined) rmSync(current, { recursive: true, force: true });
    current = undefined;
  });
  const path = () => {
    if (current === undefined) throw new Error('no temp folder outside a test');
    return current;
  };
  return {
    get path() {
      return path();
    },
    file: (name: string) => join(path(), name),
  };
}
