import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreSymlinkError, type Store, type StoreLogger } from '../src/index.js';
import { databaseLayer, readLayerFile, replayLayerFile } from './support/mirror-files.js';
import { asStored } from './support/stored-record.js';

let base: string;
let dir: string;
const opened: Store[] = [];

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'memhub-mirror-hardening-'));
  dir = join(base, 'store');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(base, { recursive: true, force: true });
});

async function open(options: Partial<Parameters<typeof openStore>[0]> = {}): Promise<Store> {
  const store = await openStore({ dir, ...options });
  opened.push(store);
  return store;
}

async function close(store: Store): Promise<void> {
  opened.splice(opened.indexOf(store), 1);
  await store.close();
}

const layersPath = (name: string, storeDir = dir) => join(storeDir, 'layers', name);

describe('the layer index names its layer file by content, not by inode', () => {
  it('a store copied with cp -a opens, verifies clean, and reads a record through the copied index with one line read', async () => {
    const store = await open();
    const records = (await store.rememberMany(Array.from({ length: 300 }, (_, index) => ({ content: `copied memory ${index}` })))).map(asStored);
    await close(store);
    const copy = join(base, 'copy');
    execFileSync('cp', ['-a', dir, copy]);
    expect(statSync(layersPath('application.jsonl', copy)).ino).not.toBe(statSync(layersPath('application.jsonl')).ino);
    expect(statSync(layersPath('application.idx', copy)).ino).not.toBe(statSync(layersPath('application.idx')).ino);

    const copied = await openStore({ dir: copy });
    opened.push(copied);
    const report = await copied.verify();
    expect(report.problems).toEqual([]);
    expect(report.layers[0]!.index).toEqual({ ok: true, entries: 300, coveredBytes: statSync(layersPath('application.jsonl', copy)).size });
    for (const record of [records[0]!, records[150]!, records[299]!]) {
      expect(await copied.readFromMirror('application', record.id)).toEqual({ record, linesRead: 1 });
    }
    // Used as it was copied: never rebuilt.
    expect((await copied.stats()).mirror![0]).toMatchObject({ indexRebuilds: 0 });
  });

  it('an index whose layer file was rewritten in place with other content of the same size is stale; repair() rebuilds it', async () => {
    const store = await open();
    const records = (await store.rememberMany(Array.from({ length: 50 }, (_, index) => ({ content: `alpha memory ${index}` })))).map(asStored);
    await close(store);
    const path = layersPath('application.jsonl');
    const before = statSync(path);
    const bytes = readFileSync(path);
    bytes.write('omega', bytes.indexOf('alpha memory 0'));
    // Same file (inode), same size: only the content says it is not the file the index was built on.
    writeFileSync(path, bytes);
    expect(statSync(path)).toMatchObject({ ino: before.ino, size: before.size });

    const again = await open();
    const report = await again.verify();
    expect(report.layers[0]!.index).toMatchObject({ ok: false, problem: expect.stringContaining('stale') });
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'mirror-index', layer: 'application' }));
    const repaired = await again.repair();
    expect(repaired.after.problems).toEqual([]);
    expect(repaired.after.layers[0]!.index).toMatchObject({ ok: true, entries: 50 });
    expect(await again.readFromMirror('application', records[0]!.id)).toEqual({ record: records[0], linesRead: 1 });
  });

  it('an index of the previous format (MHIDX001, named by inode) covers nothing for verify(), and the next update rewrites it in the current one', async () => {
    const store = await open();
    const records = (await store.rememberMany(Array.from({ length: 10 }, (_, index) => ({ content: `old format ${index}` })))).map(asStored);
    await close(store);
    const index = readFileSync(layersPath('application.idx'));
    expect(index.subarray(0, 8).toString()).toBe('MHIDX002');
    index.write('MHIDX001', 0);
    writeFileSync(layersPath('application.idx'), index);

    const again = await open();
    const report = await again.verify();
    expect(report.problems).toEqual([]);
    expect(report.layers[0]!.index).toEqual({ ok: true, entries: 0, coveredBytes: 0 });
    // Not used: the whole file is read.
    expect(await again.readFromMirror('application', records[0]!.id)).toEqual({ record: records[0], linesRead: 10 });
    await again.remember({ content: 'appended after the upgrade' });
    await close(again);
    expect(readFileSync(layersPath('application.idx')).subarray(0, 8).toString()).toBe('MHIDX002');

    const upgraded = await open();
    expect(await upgraded.readFromMirror('application', records[0]!.id)).toEqual({ record: records[0], linesRead: 1 });
    expect((await upgraded.verify()).layers[0]!.index).toMatchObject({ ok: true, entries: 11 });
  });
});

/** A logger that keeps what it is told. */
function recordingLogger(): StoreLogger & { readonly warnings: { readonly details: Record<string, unknown>; readonly message: string }[] } {
  const warnings: { details: Record<string, unknown>; message: string }[] = [];
  return { warnings, warn: (details, message) => warnings.push({ details, message }) };
}

const LAYER_FILES = ['application.jsonl', 'application.idx', 'application.jsonl.lock'] as const;

describe('symlinks in layers/ are refused, never written through', () => {
  it.each(LAYER_FILES)('a store whose %s is a symlink does not open (StoreSymlinkError naming it), and the file it points to is untouched', async (name) => {
    const store = await open();
    await store.rememberMany([{ content: 'one' }, { content: 'two' }]);
    await close(store);
    // The worst case: the link points to a real layer file (say another store's), which appending would corrupt.
    mkdirSync(join(base, 'elsewhere'));
    const target = join(base, 'elsewhere', name);
    renameSync(layersPath(name), target);
    symlinkSync(target, layersPath(name));
    const targetBytes = readFileSync(target);

    const failure = await openStore({ dir }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StoreSymlinkError);
    expect(failure).toMatchObject({ code: 'ERR_MEMHUB_SYMLINK', path: layersPath(name) });
    expect((failure as Error).message).toContain('memhub refuses symlinks in layers/');
    expect(readFileSync(target).equals(targetBytes)).toBe(true);
  });

  it('a dangling symlink named like a layer file does not open either, and nothing is created where it points', async () => {
    const store = await open();
    await store.remember({ content: 'one' });
    await close(store);
    const target = join(base, 'not-here.jsonl');
    symlinkSync(target, layersPath('notes.jsonl'));
    await expect(openStore({ dir })).rejects.toMatchObject({ code: 'ERR_MEMHUB_SYMLINK', path: layersPath('notes.jsonl') });
    expect(existsSync(target)).toBe(false);
  });

  it.each(LAYER_FILES)(
    '%s replaced by a symlink while the store is open: remember() still resolves (committed), one warning, verify() throws StoreSymlinkError; the target is untouched, and the mirror heals once the link is gone',
    async (name) => {
      // Written and closed once, so that all three files exist (the index is written on close).
      const first = await open();
      await first.rememberMany(Array.from({ length: 3 }, (_, index) => ({ content: `before the link ${index}` })));
      await close(first);
      const logger = recordingLogger();
      const store = await open({ logger });
      // Every file of the layer open in this process before the link appears (a lookup opens the index).
      await store.readFromMirror('application', 'opens-every-file');
      mkdirSync(join(base, 'elsewhere'));
      const target = join(base, 'elsewhere', name);
      renameSync(layersPath(name), target);
      symlinkSync(target, layersPath(name));
      const targetBytes = readFileSync(target);

      const written = [];
      for (let index = 0; index < 3; index += 1) written.push(asStored(await store.remember({ content: `after the link ${index}` })));
      for (const record of written) expect(await store.get(record.id)).toEqual(record);
      // The file follows the commits in batches: flush() makes the append that meets the link.
      await store.flush();
      // The index is not touched by an append (it is updated in batches): only the file and its lock are.
      const symlinkWarnings = () => logger.warnings.filter((warning) => String(warning.details['error']).includes('ERR_MEMHUB_SYMLINK') || String(warning.details['error']).includes('StoreSymlinkError'));
      expect(symlinkWarnings()).toHaveLength(name === 'application.idx' ? 0 : 1);
      await expect(store.verify()).rejects.toMatchObject({ code: 'ERR_MEMHUB_SYMLINK', path: layersPath(name) });
      await expect(store.readFromMirror('application', written[0]!.id)).rejects.toBeInstanceOf(StoreSymlinkError);
      expect(readFileSync(target).equals(targetBytes)).toBe(true);

      unlinkSync(layersPath(name));
      await store.remember({ content: 'after the link is gone' });
      await store.flush();
      const report = await store.verify();
      expect(report.problems).toEqual([]);
      expect(report.layers[0]).toMatchObject({ records: 7, mirrored: 7 });
      expect(replayLayerFile(dir, 'application')).toEqual(databaseLayer(dir, 'application'));
      await close(store);
      expect(readFileSync(target).equals(targetBytes)).toBe(true);
    },
  );

  it('the layers/ folder itself may be a symlink (the whole store may be reached through one): the files are written where it points', async () => {
    const real = join(base, 'real-layers');
    mkdirSync(real);
    mkdirSync(dir);
    symlinkSync(real, join(dir, 'layers'));
    const store = await open();
    const records = (await store.rememberMany([{ content: 'through the folder link' }, { content: 'a note', layer: 'notes' }])).map(asStored);
    expect((await store.verify()).problems).toEqual([]);
    expect(await store.readFromMirror('application', records[0]!.id)).toEqual({ record: records[0], linesRead: 1 });
    expect(readLayerFile(dir, 'application').map((line) => line.record?.id)).toEqual([records[0]!.id]);
    expect(existsSync(join(real, 'notes.jsonl'))).toBe(true);
  });
});
