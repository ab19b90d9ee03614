import { appendFileSync, copyFileSync, createReadStream, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import ndjson from 'ndjson';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, rebuildFromMirror, StoreRebuildRefusedError, type MemoryRecord, type Store } from '../src/index.js';
import { databaseLayer, readLayerFile, replayLayerFile } from './support/mirror-files.js';
import { asStored } from './support/stored-record.js';

let dir: string;
let store: Store | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-mirror-'));
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function open(options: Parameters<typeof openStore>[0] extends infer O ? Partial<O> : never = {}): Promise<Store> {
  store = await openStore({ dir, ...options });
  return store;
}

async function reopen(options: Parameters<typeof open>[0] = {}): Promise<Store> {
  await store?.close();
  store = undefined;
  return open(options);
}

const layerPath = (layer: string) => join(dir, 'layers', `${layer}.jsonl`);

function expectMirrorMatchesDatabase(layers: readonly string[]): void {
  for (const layer of layers) expect(replayLayerFile(dir, layer), `layer ${layer}`).toEqual(databaseLayer(dir, layer));
}

describe('the JSONL mirror of each layer', () => {
  it('holds one line per change, in seq order, each a JSON object ending with \\n, which ndjson reads back as written', async () => {
    const s = await open();
    const [a, b] = await s.rememberMany([
      { content: 'first fact', tags: ['x'], metadata: { deep: { list: [1, 2] } } },
      { content: 'multi\nline\r\ncontent with \u2028 and "quotes"', layer: 'notes', key: 'k' },
    ]);
    await s.recall({ query: 'first' });
    await s.flush();
    await s.forget(b!.id);
    // The files follow the commits in batches: flush() appends what this process owes them.
    await s.flush();
    const lines = readLayerFile(dir, 'application');
    expect(lines.map((line) => line.op)).toEqual(['remember', 'recall-counts']);
    expect(lines[0]!.record).toEqual(asStored(a!));
    expect(lines[1]!.counts).toEqual({ [a!.id]: 1 });
    expect(readLayerFile(dir, 'notes').map((line) => [line.op, line.seq])).toEqual([
      ['remember', b!.seq],
      ['forget', expect.any(Number)],
    ]);
    // The ndjson package (strict) parses the same objects, line for line.
    const parsed: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      createReadStream(layerPath('notes'))
        .pipe(ndjson.parse({ strict: true }))
        .on('data', (value: unknown) => parsed.push(value))
        .on('error', reject)
        .on('end', resolve);
    });
    expect(parsed).toEqual(readLayerFile(dir, 'notes'));
    expect((await s.verify()).ok).toBe(true);
  });

  it('archive() moves records between the layer files as it moves them in the database; verify() is clean', async () => {
    const s = await open();
    const records = await s.rememberMany(Array.from({ length: 30 }, (_, index) => ({ content: `note ${index}` })));
    await s.recall({ query: 'note', limit: 5 });
    await s.flush();
    expect(await s.archive({ ids: records.slice(0, 10).map((record) => record.id) })).toBe(10);
    expect(await s.archive({ recallCountBelow: 1 })).toBe(15);
    await s.flush();
    expectMirrorMatchesDatabase(['application', 'archive']);
    expect(databaseLayer(dir, 'application').size).toBe(5);
    expect(databaseLayer(dir, 'archive').size).toBe(25);
    const moves = readLayerFile(dir, 'archive');
    expect(moves.every((line) => line.op === 'move-in')).toBe(true);
    expect(readLayerFile(dir, 'application').filter((line) => line.op === 'move-out').map((line) => line.seq)).toEqual(moves.map((line) => line.seq));
    const report = await s.verify();
    expect(report.ok).toBe(true);
    expect(report.layers.map((layer) => [layer.layer, layer.records, layer.mirrored])).toEqual([
      ['application', 5, 5],
      ['archive', 25, 25],
    ]);
  });

  it('a torn last line is cut off on open, kept in the quarantine file, and never fused with the next line', async () => {
    const s = await open();
    await s.rememberMany([{ content: 'one' }, { content: 'two' }]);
    await s.close();
    store = undefined;
    const fragment = '{"v":1,"seq":99,"op":"remember","record":{"id":"torn';
    appendFileSync(layerPath('application'), fragment);
    const sizeWithFragment = readFileSync(layerPath('application')).length;

    const again = await open();
    const quarantined = readFileSync(`${layerPath('application')}.quarantine`, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(quarantined).toEqual([
      expect.objectContaining({ offset: sizeWithFragment - fragment.length, bytes: fragment.length, fragment, encoding: 'utf8' }),
    ]);
    await again.remember({ content: 'three' });
    await again.flush();
    const lines = readLayerFile(dir, 'application');
    expect(lines.map((line) => line.record?.content)).toEqual(['one', 'two', 'three']);
    expect(readFileSync(layerPath('application'), 'utf8')).not.toContain('torn');
    const report = await again.verify();
    expect(report.ok).toBe(true);
    expect(report.layers[0]).toMatchObject({ quarantined: 1, tornTail: null });
  });

  it('verify() reports every line that is not a mirror line with its line number and byte offset; repair() quarantines them and rebuilds', async () => {
    const s = await open();
    await s.rememberMany([{ content: 'alpha' }, { content: 'beta' }]);
    await s.close();
    store = undefined;
    const good = readFileSync(layerPath('application'));
    const garbage = [
      'not json at all',
      '[1,2,3]',
      '{"v":2,"seq":5,"op":"remember"}',
      '{"v":1,"seq":6,"op":"explode"}',
      '{"v":1,"seq":7,"op":"forget"}',
    ];
    const invalidUtf8 = Buffer.from([0xff, 0xfe, 0x7b, 0x0a]);
    const lastGood = good.subarray(good.indexOf(0x0a) + 1);
    const firstGood = good.subarray(0, good.indexOf(0x0a) + 1);
    writeFileSync(layerPath('application'), Buffer.concat([firstGood, Buffer.from(`${garbage.join('\n')}\n`), invalidUtf8, lastGood]));
    const expectedOffsets: number[] = [];
    let offset = firstGood.length;
    for (const line of garbage) {
      expectedOffsets.push(offset);
      offset += Buffer.byteLength(line) + 1;
    }
    expectedOffsets.push(offset);

    const again = await open();
    const report = await again.verify();
    expect(report.ok).toBe(false);
    const layer = report.layers.find((entry) => entry.layer === 'application')!;
    expect(layer.badLines.map((bad) => [bad.lineNumber, bad.offset])).toEqual(expectedOffsets.map((at, index) => [index + 2, at]));
    expect(layer.badLines.map((bad) => bad.reason)).toEqual([
      expect.stringContaining('not JSON'),
      'not a JSON object',
      expect.stringContaining('format version 2'),
      expect.stringContaining('unknown op'),
      expect.stringContaining('id is not a non-empty string'),
      expect.stringContaining('not JSON'),
    ]);
    expect(report.problems.filter((problem) => problem.kind === 'mirror-bad-line')).toHaveLength(6);

    const repaired = await again.repair();
    expect(repaired.after.problems).toEqual([]);
    expect(repaired.after.ok).toBe(true);
    expect(repaired.actions.join('\n')).toContain('quarantined 6 line(s)');
    expect(readLayerFile(dir, 'application').map((line) => line.record?.content)).toEqual(['alpha', 'beta']);
    expectMirrorMatchesDatabase(['application']);
  });

  it('a deleted layer file is rebuilt from the database on the next open, also after its journal was pruned', async () => {
    const s = await open();
    for (let batch = 0; batch < 6; batch += 1) {
      await s.rememberMany(Array.from({ length: 100 }, (_, index) => ({ content: `record ${batch}.${index}`, layer: index % 2 ? 'notes' : 'application' })));
    }
    const [gone] = await s.recall({ query: 'record', limit: 1 });
    await s.forget(gone!.id);
    await s.close();
    store = undefined;
    const pruned = new Database(join(dir, 'memory.db'), { readonly: true });
    const prunedThrough = pruned.prepare(`SELECT pruned_through FROM mirror_layers WHERE layer = 'application'`).pluck().get() as number;
    pruned.close();
    expect(prunedThrough).toBeGreaterThan(0);
    unlinkSync(layerPath('application'));

    const again = await open();
    expectMirrorMatchesDatabase(['application', 'notes']);
    expect(readLayerFile(dir, 'application').at(-1)?.op).toBe('snapshot');
    await again.remember({ content: 'after the rebuild' });
    await again.flush();
    expectMirrorMatchesDatabase(['application']);
    expect((await again.verify()).ok).toBe(true);
  });

  it('a deleted layer file whose journal rows are all still there is made again from them, and an index left from another file is emptied, not kept describing it', async () => {
    // Another store's index, of other lines, left where this store's is.
    const other = mkdtempSync(join(tmpdir(), 'memhub-mirror-other-'));
    try {
      const elsewhere = await openStore({ dir: other });
      await elsewhere.rememberMany(Array.from({ length: 20 }, (_, index) => ({ content: `elsewhere ${index}` })));
      await elsewhere.close();
      const s = await open();
      await s.rememberMany(Array.from({ length: 20 }, (_, index) => ({ content: `kept ${index}` })));
      await s.close();
      store = undefined;
      expect(statSync(join(other, 'layers', 'application.idx')).size).toBeGreaterThan(64);
      copyFileSync(join(other, 'layers', 'application.idx'), join(dir, 'layers', 'application.idx'));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    // Too few lines for the journal to have been pruned: the catch-up appends them, no rebuild.
    unlinkSync(layerPath('application'));
    const again = await open();
    expect(readLayerFile(dir, 'application').map((line) => line.record?.content)).toEqual(Array.from({ length: 20 }, (_, index) => `kept ${index}`));
    expect((await again.verify()).problems).toEqual([]);
    expect((await again.readFromMirror('application', (await again.recall({ query: 'kept 7', limit: 1 }))[0]!.id)).record?.content).toBe('kept 7');
  });

  it('a layer file deleted while the store is open is recreated and rebuilt at the next append, not written to the deleted inode', async () => {
    const s = await open();
    await s.rememberMany(Array.from({ length: 1200 }, (_, index) => ({ content: `before ${index}` })));
    unlinkSync(layerPath('application'));
    unlinkSync(join(dir, 'layers', 'application.idx'));
    await s.remember({ content: 'after the delete' });
    await s.flush();
    expectMirrorMatchesDatabase(['application']);
    expect(databaseLayer(dir, 'application').size).toBe(1201);
    const report = await s.verify();
    expect(report.ok).toBe(true);
  });

  it('mirror: false writes no layer files; { layers } mirrors only those; turning a layer on later builds its file from its records', async () => {
    const s = await open({ mirror: false });
    await s.rememberMany([{ content: 'a' }, { content: 'b', layer: 'notes' }]);
    expect(existsSync(layerPath('application'))).toBe(false);
    expect(existsSync(layerPath('notes'))).toBe(false);

    const some = await reopen({ mirror: { layers: ['notes'] } });
    await some.rememberMany([{ content: 'c' }, { content: 'd', layer: 'notes' }]);
    await some.flush();
    expect(existsSync(layerPath('application'))).toBe(false);
    expect(replayLayerFile(dir, 'notes')).toEqual(databaseLayer(dir, 'notes'));
    expect(databaseLayer(dir, 'notes').size).toBe(2);

    const all = await reopen({ mirror: true });
    expectMirrorMatchesDatabase(['application', 'notes']);
    await all.remember({ content: 'e' });
    await all.flush();
    expectMirrorMatchesDatabase(['application']);
    expect((await all.verify()).ok).toBe(true);
    // Without the option, the store keeps its setting.
    const kept = await reopen();
    await kept.remember({ content: 'f' });
    await kept.flush();
    expectMirrorMatchesDatabase(['application']);
  });

  it('a database restored from an older copy never reuses a seq the mirror has: new changes are still mirrored, and verify() lists the rest', async () => {
    const s = await open();
    await s.rememberMany([{ content: 'kept 1' }, { content: 'kept 2' }]);
    await s.close();
    store = undefined;
    const backup = new Database(join(dir, 'memory.db'));
    backup.exec(`VACUUM INTO '${join(dir, 'backup.db')}'`);
    backup.close();
    const later = await open();
    const lost = await later.remember({ content: 'only in the mirror' });
    await later.close();
    store = undefined;
    renameSync(join(dir, 'backup.db'), join(dir, 'memory.db'));
    for (const suffix of ['-wal', '-shm']) rmSync(join(dir, `memory.db${suffix}`), { force: true });

    const restored = await open();
    const fresh = await restored.remember({ content: 'after the restore' });
    expect(fresh.seq).toBeGreaterThan(lost.seq);
    await restored.flush();
    expect(readLayerFile(dir, 'application').at(-1)?.record?.content).toBe('after the restore');
    const report = await restored.verify();
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'mirror-extra', layer: 'application', message: expect.stringContaining(lost.id) })]);
  });
});

describe('rebuildFromMirror', () => {
  it('gives back every record (id, seq, content, tags, layer, metadata, key, time, recall counts as of the last flush) after memory.db is deleted', async () => {
    const s = await open();
    const written = await s.rememberMany(
      Array.from({ length: 300 }, (_, index) => ({
        content: `memory ${index} ${'x'.repeat(index % 7)}`,
        tags: [`t${index % 4}`, 'all'],
        contextPath: `/p/${index % 3}`,
        layer: index % 5 === 0 ? 'notes' : 'application',
        metadata: { index, nested: { ok: true } },
        ...(index % 9 === 0 ? { key: `key-${index}` } : {}),
      })),
    );
    await s.recall({ query: 'memory', limit: 20 });
    await s.recall({ tags: ['t1'], limit: 30 });
    await s.flush();
    await s.archive({ ids: written.slice(0, 40).map((record) => record.id) });
    for (const record of written.slice(100, 110)) await s.forget(record.id);
    await s.recall({ query: 'memory', limit: 5 }); // counted but never flushed: lost with the database, as documented
    const before = await collectRecords(s);
    const flushedCounts = new Map(before.map((record) => [record.id, record.recallCount]));
    await s.close();
    store = undefined;
    // close() flushed the last recalls too; read the truth after it.
    const truth = readAll(join(dir, 'memory.db'));
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `memory.db${suffix}`), { force: true });

    const report = await rebuildFromMirror(dir);
    expect(report.records).toBe(290);
    expect(report.layers.every((layer) => layer.badLines.length === 0)).toBe(true);
    expect(readAll(join(dir, 'memory.db'))).toEqual(truth);
    expect(truth.length).toBe(290);
    expect(flushedCounts.size).toBe(290);

    const again = await open();
    expect((await again.verify()).ok).toBe(true);
    expect(await again.recall({ query: 'memory', tags: ['t2'], contextPath: '/p/1', limit: 1000 })).toHaveLength(
      truth.filter((row) => JSON.parse(row.tags as string).includes('t2') && row.context_path === '/p/1').length,
    );
    const next = await again.remember({ content: 'after the rebuild' });
    expect(next.seq).toBeGreaterThan(Math.max(...truth.map((row) => row.seq as number)));
  });

  it('update() appends an update line (and a move-out where it moves the record); rebuildFromMirror() gives back the records and their history', async () => {
    const s = await open();
    const [a, b, c] = await s.rememberMany([
      { content: 'alpha one', key: 'a', pinned: true },
      { content: 'beta one', expiresAt: Date.now() + 3_600_000 },
      { content: 'gamma one', tags: ['g'] },
    ]);
    const a2 = await s.update(a!.id, { content: 'alpha two' });
    const a3 = await s.update('a', { tags: ['x'], metadata: { v: 3 }, ttl: 86_400_000 });
    expect(a3).toMatchObject({ pinned: true, expiresAt: expect.any(String) });
    const b2 = await s.update(b!.id, { content: 'beta two', layer: 'notes' });
    const b3 = await s.update(b!.id, { content: 'beta three' });
    const c2 = await s.update(c!.id, { content: 'gamma two' });
    await s.forget(c!.id);
    await s.flush();
    expect(readLayerFile(dir, 'application').map((line) => [line.op, line.seq])).toEqual([
      ['remember', a!.seq],
      ['remember', b!.seq],
      ['remember', c!.seq],
      ['update', a2.seq],
      ['update', a3.seq],
      ['move-out', b2.seq],
      ['update', c2.seq],
      ['forget', expect.any(Number)],
    ]);
    expect(readLayerFile(dir, 'notes').map((line) => [line.op, line.seq])).toEqual([
      ['update', b2.seq],
      ['update', b3.seq],
    ]);
    expect(readLayerFile(dir, 'application')[4]!.record).toEqual(a3);
    expectMirrorMatchesDatabase(['application', 'notes']);
    expect((await s.readFromMirror('application', a!.id)).record).toEqual(a3);
    expect((await s.verify()).ok).toBe(true);
    const historyOfA = await s.history(a!.id);
    const historyOfB = await s.history(b!.id);
    await s.close();
    store = undefined;
    const truth = readAll(join(dir, 'memory.db'));
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `memory.db${suffix}`), { force: true });

    const report = await rebuildFromMirror(dir);
    expect(report.records).toBe(2);
    expect(truth.map((row) => [row['pinned'], row['expires_at'] === null])).toEqual([
      [1, false],
      [0, false],
    ]);
    expect(readAll(join(dir, 'memory.db'))).toEqual(truth);
    const again = await open();
    expect((await again.verify()).ok).toBe(true);
    expect(await again.history(a!.id)).toEqual(historyOfA);
    // The versions a layer's file holds come back: b's first version was in the layer it left.
    expect(await again.history(b!.id)).toEqual(historyOfB.slice(1));
    expect((await again.recall({ query: 'alpha', count: false })).map((hit) => hit.id)).toEqual([a!.id]);
    expect(await again.recall({ query: 'gamma', count: false })).toEqual([]);
  });

  it('refuses to replace a healthy database unless forced, and refuses while a store has it open', async () => {
    const s = await open();
    await s.remember({ content: 'healthy' });
    await s.flush();
    await expect(rebuildFromMirror(dir)).rejects.toBeInstanceOf(StoreRebuildRefusedError);
    await expect(rebuildFromMirror(dir, { force: true })).rejects.toMatchObject({ reason: 'in-use', message: expect.stringMatching(/open in process/) });
    await s.close();
    store = undefined;
    await expect(rebuildFromMirror(dir)).rejects.toMatchObject({ reason: 'healthy', message: expect.stringMatching(/healthy and holds 1 record.*pass \{ force: true \}/) });
    const forced = await rebuildFromMirror(dir, { force: true });
    expect(forced.records).toBe(1);
    expect(forced.movedAside[0]).toMatch(/memory\.db\.replaced-[0-9T-]+Z$/);
    for (const path of forced.movedAside) expect(path).toMatch(/memory\.db\.replaced-[0-9T-]+Z(-wal|-shm)?$/);
  });

  it('rebuilds a memory.db that is not a database, keeping the broken file beside it', async () => {
    const s = await open();
    await s.rememberMany([{ content: 'one' }, { content: 'two', layer: 'notes' }]);
    await s.close();
    store = undefined;
    for (const suffix of ['-wal', '-shm']) rmSync(join(dir, `memory.db${suffix}`), { force: true });
    writeFileSync(join(dir, 'memory.db'), 'this is not a database, it is a shopping list');
    const report = await rebuildFromMirror(dir);
    expect(report.records).toBe(2);
    expect(readFileSync(report.movedAside[0]!, 'utf8')).toContain('shopping list');
    await expect((await open()).verify()).resolves.toMatchObject({ ok: true });
  });
});

async function collectRecords(s: Store): Promise<MemoryRecord[]> {
  const records: MemoryRecord[] = [];
  for await (const line of s.export()) records.push(JSON.parse(line) as MemoryRecord);
  return records;
}

function readAll(path: string): Record<string, unknown>[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT seq, id, layer, content, tags, context_path, metadata, idempotency_key, created_at, recall_count, updated_at, pinned, expires_at FROM records ORDER BY seq').all() as Record<
      string,
      unknown
    >[];
  } finally {
    db.close();
  }
}
