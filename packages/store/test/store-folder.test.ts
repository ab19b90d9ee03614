import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;
/** A tmpfs mounted read-only, where this machine lets the test mount one (root). */
let readOnlyMount: string | undefined;
let mountRefusal: string | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-folder-'));
  const mountPoint = join(dir, 'read-only-mount');
  mkdirSync(mountPoint);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0777', 'tmpfs', mountPoint], { stdio: 'pipe' });
    mkdirSync(join(mountPoint, 'existing'));
    execFileSync('mount', ['-o', 'remount,ro', mountPoint], { stdio: 'pipe' });
    readOnlyMount = mountPoint;
  } catch (error) {
    mountRefusal = String((error as { stderr?: Buffer }).stderr ?? error).trim();
  }
});

afterAll(() => {
  if (readOnlyMount !== undefined) execFileSync('umount', ['-l', readOnlyMount], { stdio: 'pipe' });
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
  readonly ms: number;
}

/**
 * Opens a store at each folder in turn in one child process (as `uid` when given), which the test
 * kills after 20 s: a store folder that made openStore spin for ever must fail the test, not hang it.
 * The first outcome is the control: a new store in a good folder, opened (and closed) in the same
 * child, whose time bounds how long a refusal may take on this machine at this moment.
 */
async function openEachInChild(storeDirs: readonly string[], uid?: number): Promise<{ control: Outcome; outcomes: Outcome[] }> {
  const control = mkdtempSync(join(tmpdir(), 'memhub-store-folder-control-'));
  if (uid !== undefined) chmodSync(control, 0o777);
  const script = `
    import { openStore } from '@memhub/store';
    {
      const started = performance.now();
      const store = await openStore({ dir: ${JSON.stringify(join(control, 'store'))} });
      await store.close();
      console.log(JSON.stringify({ name: 'opened', message: '', ms: performance.now() - started }));
    }
    for (const dir of ${JSON.stringify(storeDirs)}) {
      const started = performance.now();
      try { const store = await openStore({ dir }); await store.close(); console.log(JSON.stringify({ name: 'opened', message: '', ms: 0 })); }
      catch (error) { console.log(JSON.stringify({ name: error.constructor.name, code: error.code, message: error.message, ms: performance.now() - started })); }
    }
  `;
  // Asynchronously: a child run with tsx on a busy machine takes seconds, and this worker's event
  // loop must go on meanwhile (vitest's calls to it time out after 60 s).
  const { stdout: output } = await promisify(execFile)(process.execPath, ['--conditions=@memhub/source', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
    timeout: 20_000,
    killSignal: 'SIGKILL',
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  rmSync(control, { recursive: true, force: true });
  const [controlOutcome, ...outcomes] = output
    .trim()
    .split('\n')
    .slice(-(storeDirs.length + 1))
    .map((line) => JSON.parse(line) as Outcome);
  expect(controlOutcome?.name).toBe('opened');
  return { control: controlOutcome!, outcomes };
}

/**
 * A refusal takes no longer than creating a good store does (which writes a schema and its files),
 * give or take a scheduler's hiccup: a wait, a retry loop or a timeout on the way would not.
 */
function expectPromptRefusal(outcome: Outcome | undefined, control: Outcome): void {
  expect(outcome?.ms, `${outcome?.name}: ${outcome?.message}`).toBeLessThan(Math.max(control.ms * 3, 1));
}

describe('a store folder that cannot be used fails at once with a typed error naming it', () => {
  const cases = new Map<string, Outcome>();

  beforeAll(async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    mkdirSync(join(dir, 'not-a-database'));
    writeFileSync(join(dir, 'not-a-database', 'memory.db'), 'these bytes are not SQLite\n'.repeat(200));
    mkdirSync(join(dir, 'database-is-a-folder', 'memory.db'), { recursive: true });
    const folders = {
      proc: '/proc/memhub-nope/store',
      file,
      throughFile: join(file, 'store'),
      dangling: join(dir, 'dangling'),
      notADatabase: join(dir, 'not-a-database'),
      databaseIsAFolder: join(dir, 'database-is-a-folder'),
      ...(readOnlyMount === undefined ? {} : { readOnlyNew: join(readOnlyMount, 'new', 'store'), readOnlyExisting: join(readOnlyMount, 'existing') }),
    };
    const { control, outcomes } = await openEachInChild(Object.values(folders));
    cases.set('control', control);
    Object.keys(folders).forEach((name, index) => cases.set(name, outcomes[index] as Outcome));
  });

  it('each refusal comes as quickly as a good store opens', () => {
    for (const [name, outcome] of cases) {
      if (name !== 'control') expectPromptRefusal(outcome, cases.get('control')!);
    }
  });

  it('a memory.db that is not a database, and one that is a folder: unusable, said so, nothing replaced', () => {
    expect(cases.get('notADatabase')).toMatchObject({ name: 'StoreCorruptError', code: 'ERR_MEMHUB_CORRUPT' });
    expect(cases.get('notADatabase')?.message).toContain(`${join(dir, 'not-a-database', 'memory.db')} is not a database or is damaged`);
    expect(readFileSync(join(dir, 'not-a-database', 'memory.db'), 'utf8')).toBe('these bytes are not SQLite\n'.repeat(200));
    expect(cases.get('databaseIsAFolder')).toMatchObject({ code: expect.stringMatching(/^ERR_MEMHUB_/) });
    expect(cases.get('databaseIsAFolder')?.message).toContain(join(dir, 'database-is-a-folder'));
  });

  it('under /proc, where mkdir neither succeeds nor says EEXIST', () => {
    const outcome = cases.get('proc');
    expect(outcome).toMatchObject({ name: 'StoreAccessError', code: 'ERR_MEMHUB_ACCESS' });
    expect(outcome?.message).toContain('/proc/memhub-nope/store');
    expect(outcome?.message).toContain('does not accept new folders');
  });

  it('a regular file', () => {
    const outcome = cases.get('file');
    expect(outcome).toMatchObject({ name: 'StoreValidationError', code: 'ERR_MEMHUB_VALIDATION' });
    expect(outcome?.message).toContain(`${join(dir, 'a-file')} exists and is not a folder`);
  });

  it('a path through a regular file', () => {
    const outcome = cases.get('throughFile');
    expect(outcome).toMatchObject({ name: 'StoreValidationError', code: 'ERR_MEMHUB_VALIDATION' });
    expect(outcome?.message).toContain('a part of the path is a file');
  });

  it('a dangling symbolic link', () => {
    const outcome = cases.get('dangling');
    expect(outcome).toMatchObject({ name: 'StoreValidationError', code: 'ERR_MEMHUB_VALIDATION' });
    expect(outcome?.message).toContain('symbolic link to something that does not exist');
  });

  it('a new store on a read-only filesystem, and an existing empty folder there', (context) => {
    if (readOnlyMount === undefined) {
      context.skip(`cannot mount a read-only tmpfs here: ${mountRefusal}`);
      return;
    }
    for (const name of ['readOnlyNew', 'readOnlyExisting']) {
      const outcome = cases.get(name);
      expect(outcome, name).toMatchObject({ name: 'StoreAccessError', code: 'ERR_MEMHUB_ACCESS' });
      expect(outcome?.message, name).toContain('read-only');
    }
  });

  it('a folder this process may not write (run as nobody when the test runs as root)', async () => {
    // The test folder is reachable by everyone; the folder in it may not be written to.
    chmodSync(dir, 0o755);
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    const { control, outcomes } = await openEachInChild([join(locked, 'store')], process.getuid?.() === 0 ? 65534 : undefined);
    const [outcome] = outcomes;
    expectPromptRefusal(outcome, control);
    expect(outcome).toMatchObject({ name: 'StoreAccessError', code: 'ERR_MEMHUB_ACCESS' });
    expect(outcome?.message).toContain('may not create folders there');
  });
});
