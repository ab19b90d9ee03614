import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  openStore,
  StoreAccessError,
  StoreCorruptError,
  StoreDiskFullError,
  StoreError,
  type MemoryRecord,
} from '@memhub/store';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountSmallFilesystem, type SmallFilesystem } from './support/small-filesystem.js';
import { asStored } from '../../packages/store/test/support/stored-record.js';

let dir: string;
const cleanups: (() => void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-env-faults-'));
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function integrityOf(storeDir: string): string {
  const db = new Database(join(storeDir, 'memory.db'), { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

/** The error's message must say what happened in words: no SQLite or errno jargon only, no stack from deep inside. */
function expectPlainError(error: unknown, type: abstract new (...args: never[]) => StoreError, code: string, mentions: string): void {
  expect(error).toBeInstanceOf(type);
  expect((error as StoreError).code).toBe(code);
  expect((error as Error).message).toContain(mentions);
}

const smallFilesystem: SmallFilesystem = mountSmallFilesystem(8 * 1024 * 1024);
if (!smallFilesystem.mounted) console.warn(`memhub: the full-disk and read-only filesystem tests are skipped: ${smallFilesystem.reason}`);
afterEach(() => {
  if (smallFilesystem.mounted) {
    try {
      smallFilesystem.remount('rw');
    } catch {
      // not remounted read-only by this test
    }
    for (const entry of readdirSync(smallFilesystem.path)) rmSync(join(smallFilesystem.path, entry), { recursive: true, force: true });
  }
});
afterAll(() => smallFilesystem.dispose());

describe('faults of the environment', () => {
  it.skipIf(!smallFilesystem.mounted)(
    'a full disk: writes fail with StoreDiskFullError, nothing acknowledged is lost, and writes succeed again once space is freed',
    async () => {
      const storeDir = join(smallFilesystem.path, 'store');
      const filler = join(smallFilesystem.path, 'filler');
      writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024, 1));
      const warnings: string[] = [];
      const store = await openStore({ dir: storeDir, logger: { warn: (_details, message) => warnings.push(message) } });
      const acknowledged: MemoryRecord[] = [];
      let failure: unknown;
      for (let index = 0; index < 5_000 && failure === undefined; index += 1) {
        try {
          acknowledged.push(asStored(await store.remember({ content: `record ${index} ${'x'.repeat(8_000)}`, tags: ['full'] })));
        } catch (error) {
          failure = error;
        }
      }
      expect(acknowledged.length).toBeGreaterThan(50);
      expectPlainError(failure, StoreDiskFullError, 'ERR_MEMHUB_DISK_FULL', 'is full');
      // Still full: each further write fails the same clean way, nothing crashes.
      await expect(store.remember({ content: `again ${'y'.repeat(8_000)}` })).rejects.toBeInstanceOf(StoreDiskFullError);

      rmSync(filler);
      const after = await store.remember({ content: 'written once space was freed' });
      expect((await store.get(after.id))?.content).toBe('written once space was freed');
      await store.close();

      const reopened = await openStore({ dir: storeDir });
      try {
        for (const record of acknowledged) expect(await reopened.get(record.id), `acknowledged record ${record.seq}`).toEqual(record);
        expect((await reopened.stats()).records).toBe(acknowledged.length + 1);
        const report = await reopened.verify();
        expect(report.problems).toEqual([]);
      } finally {
        await reopened.close();
      }
      expect(integrityOf(storeDir)).toBe('ok');
    },
    60_000,
  );

  it.skipIf(!smallFilesystem.mounted)('a read-only store: opening it fails with StoreAccessError saying so, and the files are untouched', async () => {
    const storeDir = join(smallFilesystem.path, 'store');
    const store = await openStore({ dir: storeDir });
    await store.remember({ content: 'kept' });
    await store.close();
    const before = readFileSync(join(storeDir, 'memory.db'));
    smallFilesystem.remount('ro');
    const failure = await openStore({ dir: storeDir }).catch((error: unknown) => error);
    expectPlainError(failure, StoreAccessError, 'ERR_MEMHUB_ACCESS', storeDir);
    expect(readFileSync(join(storeDir, 'memory.db')).equals(before)).toBe(true);
    smallFilesystem.remount('rw');
    const again = await openStore({ dir: storeDir });
    expect((await again.stats()).records).toBe(1);
    await again.close();
  });

  it('a folder this process may not write: opening a store there fails with StoreAccessError', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    // As root permissions are not enforced, so the open runs as nobody in a child process.
    const asNobody = process.getuid?.() === 0;
    const script = `
      import { openStore } from '@memhub/store';
      try { await openStore({ dir: ${JSON.stringify(join(locked, 'store'))} }); console.log('opened'); }
      catch (error) { console.log(JSON.stringify({ name: error.constructor.name, code: error.code, message: error.message })); }
    `;
    const { stdout: output } = await promisify(execFile)(process.execPath, ['--conditions=@memhub/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
      ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
    });
    const outcome = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as { name: string; code: string; message: string };
    expect(outcome).toMatchObject({ name: 'StoreAccessError', code: 'ERR_MEMHUB_ACCESS' });
    expect(outcome.message).toContain(join(locked, 'store'));
  });

  it('a memory.db that is not a database: StoreCorruptError pointing to rebuildFromMirror, and the file left as it was', async () => {
    const junk = Buffer.from('these are somebody else\'s notes, not a SQLite database '.repeat(40));
    writeFileSync(join(dir, 'memory.db'), junk);
    const failure = await openStore({ dir }).catch((error: unknown) => error);
    expectPlainError(failure, StoreCorruptError, 'ERR_MEMHUB_CORRUPT', 'rebuildFromMirror');
    expect(readFileSync(join(dir, 'memory.db')).equals(junk)).toBe(true);
  });

  it('a missing folder is created, parents and all; a path through a file is refused in words', async () => {
    const nested = join(dir, 'a', 'b', 'c');
    const store = await openStore({ dir: nested });
    await store.remember({ content: 'made the folders' });
    await store.close();
    writeFileSync(join(dir, 'plain-file'), 'x');
    const failure = await openStore({ dir: join(dir, 'plain-file', 'store') }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as Error).message).toContain(join(dir, 'plain-file', 'store'));
  });

  it('a long-lived process that opens and closes 1,000 stores keeps the same number of descriptors', async () => {
    const descriptors = () => readdirSync('/proc/self/fd').length;
    const warm = await openStore({ dir: join(dir, 'warm') });
    await warm.close();
    const before = descriptors();
    for (let round = 0; round < 1_000; round += 1) {
      const store = await openStore({ dir: join(dir, `s${round % 10}`) });
      await store.remember({ content: `round ${round}`, layer: round % 2 === 0 ? 'application' : 'notes' });
      await store.recall({ query: 'round', limit: 3 });
      if (round % 100 === 0) await store.verify();
      await store.close();
    }
    expect(descriptors()).toBe(before);
  }, 120_000);
});
