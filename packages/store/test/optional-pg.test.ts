import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * `pg` is an optional peer dependency of @memhub/store: a program that opens only SQLite stores
 * never loads it, and one that opens a PostgreSQL store without it installed is told which
 * package to add. The child process runs with a module hook that answers every import of `pg` as
 * Node answers when the package is not installed, and notes each one in a file.
 */
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-optional-pg-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const HOOK = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier === 'pg' || specifier.startsWith('pg/')) {
    appendFileSync(process.env.MEMHUB_TEST_PG_LOG, specifier + '\\n');
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}
`;

interface Outcome {
  readonly pgRequestedBySqlite: boolean;
  readonly found: number;
  readonly name: string;
  readonly code: string;
  readonly packageName: string;
  readonly message: string;
}

async function runWithoutPg(): Promise<{ outcome: Outcome; requests: string[] }> {
  const hook = join(dir, 'no-pg-hook.mjs');
  const register = join(dir, 'register-no-pg.mjs');
  const log = join(dir, 'pg-requests.log');
  writeFileSync(hook, HOOK);
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hook}`)});\n`);
  const script = `
    import { existsSync } from 'node:fs';
    import { openStore } from '@memhub/store';
    const store = await openStore({ dir: ${JSON.stringify(join(dir, 'store'))} });
    await store.remember({ content: 'a store on SQLite needs no pg', tags: ['sqlite'] });
    const found = await store.recall({ query: 'needs' });
    await store.close();
    const pgRequestedBySqlite = existsSync(${JSON.stringify(log)});
    let error;
    try { await openStore({ url: 'postgres://postgres@127.0.0.1:1/none' }); } catch (caught) { error = caught; }
    console.log(JSON.stringify({ pgRequestedBySqlite, found: found.length, name: error?.constructor.name, code: error?.code, packageName: error?.packageName, message: error?.message }));
  `;
  const { stdout: output } = await promisify(execFile)(process.execPath, ['--conditions=@memhub/source', '--import', 'tsx', '--import', register, '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '..'),
    env: { ...process.env, MEMHUB_TEST_PG_LOG: log },
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  const lines = output.trim().split('\n');
  return {
    outcome: JSON.parse(lines[lines.length - 1] ?? '{}') as Outcome,
    requests: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [],
  };
}

describe('pg is optional', () => {
  it('a program with SQLite stores only never loads pg; a store on PostgreSQL without pg is StoreDependencyError naming it', async () => {
    const { outcome, requests } = await runWithoutPg();
    expect(outcome.pgRequestedBySqlite, 'pg was imported while only a SQLite store was used').toBe(false);
    expect(outcome.found).toBe(1);
    // The hook took part: the PostgreSQL engine asked for pg, and was told it is not installed.
    expect(requests).toContain('pg');
    expect(outcome.name).toBe('StoreDependencyError');
    expect(outcome.code).toBe('ERR_MEMHUB_MISSING_DEPENDENCY');
    expect(outcome.packageName).toBe('pg');
    expect(outcome.message).toContain('npm install pg');
  });
});
