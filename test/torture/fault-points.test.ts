import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockStatus } from '@memhub/lock';
import { openStore, rebuildFromMirror, StoreCorruptError } from '@memhub/store';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FixtureProcess } from '../../packages/lock/test/support/processes.js';

const VICTIM = fileURLToPath(new URL('./fixtures/fault-victim.ts', import.meta.url));

let dir: string;
const children: FixtureProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-fault-points-'));
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the victim with the fault point armed; resolves with what it acknowledged once it died of it. */
async function runUntilFault(fault: string, scenario: 'write' | 'recall' | 'open' | 'rebuild' | 'archive-forget'): Promise<{ seq: number; id: string }[]> {
  const victim = new FixtureProcess(VICTIM, [dir, scenario], { MEMHUB_FAULT: fault });
  children.push(victim);
  const ending = await victim.exited();
  expect(ending, `the victim should die at ${fault}, not end on its own:\n${victim.stderr}`).toBe('SIGKILL');
  return victim.lines
    .filter((line) => line.startsWith('ack '))
    .map((line) => {
      const [, seq, id] = line.split(' ');
      return { seq: Number(seq), id: id as string };
    });
}

/** After the crash: the store opens, heals, takes a write at once, holds what was acknowledged, and verifies clean. */
async function expectHealed(acknowledged: readonly { id: string }[]): Promise<void> {
  expect(lockStatus(join(dir, 'memory.db.lock')).state, 'the write lock died with its holder').toBe('free');
  const store = await openStore({ dir, lockTimeoutMs: 2_000 });
  try {
    await store.remember({ content: 'written right after the crash' });
    for (const { id } of acknowledged) expect(await store.get(id), `acknowledged ${id}`).not.toBeNull();
    const report = await store.verify();
    expect(report.problems).toEqual([]);
  } finally {
    await store.close();
  }
  const db = new Database(join(dir, 'memory.db'), { readonly: true });
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  db.close();
}

/** A store with records in two layers, closed, and with enough appended that its journal was pruned. */
async function seedStore(): Promise<void> {
  const store = await openStore({ dir });
  for (let batch = 0; batch < 4; batch += 1) {
    await store.rememberMany(Array.from({ length: 150 }, (_, index) => ({ content: `seed ${batch}.${index}`, layer: index % 2 ? 'notes' : 'application' })));
  }
  await store.close();
}

describe('fault points: a process that dies at each step of the write path leaves a store that opens, heals and verifies clean', () => {
  it('before BEGIN, with the write lock held', async () => {
    await seedStore();
    const acknowledged = await runUntilFault('before-begin', 'write');
    expect(acknowledged).toEqual([]);
    await expectHealed(acknowledged);
  });

  it('inside the write transaction, every change made and COMMIT not run', async () => {
    await seedStore();
    const acknowledged = await runUntilFault('before-commit', 'write');
    expect(acknowledged).toEqual([]);
    await expectHealed(acknowledged);
    // The transaction died with its process: none of its records is there.
    const store = await openStore({ dir });
    expect(await store.recall({ query: 'victim' })).toEqual([]);
    await store.close();
  });

  it('after COMMIT, before the mirror append and the answer', async () => {
    await seedStore();
    const acknowledged = await runUntilFault('after-commit', 'write');
    expect(acknowledged).toEqual([]);
    await expectHealed(acknowledged);
  });

  it('after the callers were answered, before the batched mirror append: every acknowledged record reaches its layer file on the next open', async () => {
    await seedStore();
    const acknowledged = await runUntilFault('mirror-before-append', 'write');
    expect(acknowledged.length).toBeGreaterThan(0);
    // The kill came in the window this exercises: acknowledged records whose lines were still owed.
    const mirrored = ['application', 'notes'].map((layer) => readFileSync(join(dir, 'layers', `${layer}.jsonl`), 'utf8')).join('');
    expect(acknowledged.filter(({ id }) => !mirrored.includes(id)).length).toBeGreaterThan(0);
    await expectHealed(acknowledged);
    const healed = ['application', 'notes'].map((layer) => readFileSync(join(dir, 'layers', `${layer}.jsonl`), 'utf8')).join('');
    expect(acknowledged.filter(({ id }) => !healed.includes(id))).toEqual([]);
  });

  it('in the middle of a mirror append', async () => {
    await seedStore();
    await expectHealed(await runUntilFault('mirror-mid-append', 'write'));
  });

  it('after an append, before its index update', async () => {
    const acknowledged = await runUntilFault('mirror-before-index', 'write');
    expect(acknowledged.length).toBeGreaterThan(0);
    await expectHealed(acknowledged);
  });

  it('in a rebuild of a layer file, after emptying it', async () => {
    await seedStore();
    unlinkSync(join(dir, 'layers', 'application.jsonl'));
    await runUntilFault('mirror-before-rebuild', 'open');
    await expectHealed([]);
  });

  it('in a rebuild of a layer file, part of its lines written; with records moved between layers and counted', async () => {
    await seedStore();
    const store = await openStore({ dir });
    const notes = await store.recall({ layer: 'notes', limit: 100 });
    await store.flush(); // the recall counts of those 100
    const moved = await store.archive({ ids: (await store.recall({ layer: 'application', limit: 40 })).map((record) => record.id) });
    expect(moved).toBe(40);
    await store.rememberMany(Array.from({ length: 50 }, (_, index) => ({ content: `after the move ${index}` })));
    await store.close();
    unlinkSync(join(dir, 'layers', 'application.jsonl'));
    unlinkSync(join(dir, 'layers', 'archive.jsonl'));
    await runUntilFault('mirror-mid-rebuild', 'open');
    await expectHealed(notes);
  });

  it('in a rebuild from the mirror, after a batch of the new database: the store refuses to open until a new rebuild replaces it', async () => {
    await seedStore();
    const seeded = await openStore({ dir });
    const ids = (await seeded.recall({ layer: 'notes', limit: 1000 })).map((record) => record.id);
    await seeded.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `memory.db${suffix}`), { force: true });

    await runUntilFault('rebuild-mid-replay', 'rebuild');
    const opening = openStore({ dir, lockTimeoutMs: 2_000 });
    await expect(opening).rejects.toBeInstanceOf(StoreCorruptError);
    await expect(opening).rejects.toThrow(/rebuild from the layer mirrors that did not finish/);

    const report = await rebuildFromMirror(dir); // no force needed: the unfinished file is no store
    expect(report.records).toBe(600);
    expect(report.movedAside.length, 'the unfinished database is kept beside the new one').toBeGreaterThan(0);
    const store = await openStore({ dir });
    try {
      for (const id of ids) expect(await store.get(id), id).not.toBeNull();
    } finally {
      await store.close();
    }
    await expectHealed([]);
  });

  it('after COMMIT of records moved to the archive and forgotten: the catch-up passes the changes that have no line left', async () => {
    const store = await openStore({ dir });
    await store.rememberMany(Array.from({ length: 40 }, (_, index) => ({ content: `moved and forgotten ${index}` })));
    await store.close();
    await runUntilFault('after-commit', 'archive-forget');

    const reopened = await openStore({ dir });
    const kept = await reopened.remember({ content: 'archived after the crash' });
    expect(await reopened.archive({ ids: [kept.id] })).toBe(1);
    await reopened.close();
    const archiveLines = readFileSync(join(dir, 'layers', 'archive.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { op: string; id?: string; record?: { id: string } });
    expect(archiveLines.filter((line) => line.op === 'forget')).toHaveLength(40);
    expect(archiveLines.at(-1)).toMatchObject({ op: 'move-in', record: { id: kept.id } });
    await expectHealed([kept]);
    // Those forget lines without a move-in before them are the mirror's own: a rebuild from these
    // files applies them as no-ops and reports nothing.
    const rebuilt = await rebuildFromMirror(dir, { force: true });
    expect(rebuilt.skippedLines).toBe(0);
    expect(rebuilt.records).toBe(2);
  });

  it('inside a transaction of the search index (memory.search.db), a page of the tail written and COMMIT not run', async () => {
    await seedStore();
    // The victim writes until its own commits make the tail due and it indexes it, in the background.
    const acknowledged = await runUntilFault('search-index-before-commit', 'write');
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(lockStatus(join(dir, 'memory.search.db.lock')).state, 'the search index lock died with its holder').toBe('free');
    await expectHealed(acknowledged);
    // The page died with its transaction: the index is where it was, and catches up from there.
    const store = await openStore({ dir });
    try {
      const found = new Set((await store.recall({ tags: ['victim'], limit: 1000, count: false })).map((hit) => hit.id));
      for (const { id } of acknowledged) expect(found.has(id), `acknowledged ${id} is found by its tag`).toBe(true);
      expect((await store.recall({ query: 'victim', limit: 1000, count: false })).length).toBe(found.size);
    } finally {
      await store.close();
    }
    const index = new Database(join(dir, 'memory.search.db'), { readonly: true });
    expect(index.pragma('integrity_check', { simple: true })).toBe('ok');
    index.close();
  });

  it('during a recall-count flush', async () => {
    const acknowledged = await runUntilFault('recall-flush', 'recall');
    expect(acknowledged).toHaveLength(20);
    await expectHealed(acknowledged);
  });
});
