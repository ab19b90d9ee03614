import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, rebuildFromMirror, type MemoryRecord, type RebuildReport, type SkippedLineKind } from '../src/index.js';
import { readLayerFile } from './support/mirror-files.js';
import { startStoreFixture } from './support/processes.js';
import { asStored } from './support/stored-record.js';

let dir: string;
/** The seeded records: a, b (application, keys key-a and key-b), c (moved to archive), as the store returned them. */
let seeded: { a: MemoryRecord; b: MemoryRecord; c: MemoryRecord };

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-rebuild-bad-lines-'));
  const store = await openStore({ dir });
  const [a, b, c] = (await store.rememberMany([
    { content: 'alpha', tags: ['x'], key: 'key-a' },
    { content: 'beta', contextPath: '/p', key: 'key-b' },
    { content: 'gamma', metadata: { n: 1 } },
  ])).map(asStored) as [MemoryRecord, MemoryRecord, MemoryRecord];
  await store.archive({ ids: [c.id] });
  seeded = { a, b, c: (await store.get(c.id)) as MemoryRecord };
  await store.close();
  // application.jsonl: remember a (1), b (2), c (3), move-out c (4); archive.jsonl: move-in c (4).
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `memory.db${suffix}`), { force: true });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const layerPath = (layer: string) => join(dir, 'layers', `${layer}.jsonl`);

function linesOf(layer: string): string[] {
  const text = readFileSync(layerPath(layer), 'utf8');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}

/** Puts `text` as line `lineNumber` (1-based) of the layer file; returns the line's byte offset. */
function insertLine(layer: string, lineNumber: number, text: string | Buffer): number {
  const lines = readFileSync(layerPath(layer)).toString('latin1').split('\n').slice(0, -1);
  const before = lines.slice(0, lineNumber - 1);
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const offset = before.reduce((sum, line) => sum + Buffer.byteLength(line, 'latin1') + 1, 0);
  writeFileSync(
    layerPath(layer),
    Buffer.concat([Buffer.from(before.map((line) => `${line}\n`).join(''), 'latin1'), bytes, Buffer.from('\n'), Buffer.from(lines.slice(lineNumber - 1).map((line) => `${line}\n`).join(''), 'latin1')]),
  );
  return offset;
}

/** A remember line as memhub writes it, with some of the record's fields replaced. */
function rememberLine(record: MemoryRecord, changes: Record<string, unknown> = {}, seq = (changes['seq'] as number | undefined) ?? record.seq): string {
  const fields = { id: record.id, seq: record.seq, content: record.content, tags: record.tags, contextPath: record.contextPath, layer: record.layer, createdAt: record.createdAt, recallCount: record.recallCount, metadata: record.metadata, key: record.key };
  return JSON.stringify({ v: 1, seq, op: 'remember', record: { ...fields, ...changes } });
}

/** A new record's fields (as if remembered at `seq`), for lines that add one. */
function newRecord(seq: number, fields: Partial<MemoryRecord> = {}): MemoryRecord {
  return { id: `0198a0b0-0000-7000-8000-${String(seq).padStart(12, '0')}`, seq, content: `new ${seq}`, tags: [], contextPath: '/', layer: 'application', createdAt: '2024-05-01T12:00:00.000Z', recallCount: 0, metadata: {}, key: null, ...fields };
}

interface Quarantined {
  readonly offset: number;
  readonly reason: string;
  readonly fragment: string;
  readonly encoding: string;
}

function quarantined(layer: string): Quarantined[] {
  const path = `${layerPath(layer)}.quarantine`;
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Quarantined);
}

/** Rebuilds, then checks what every rebuild must leave: a store that opens, verifies clean, and holds exactly `expected`. */
async function rebuildExpecting(expected: readonly MemoryRecord[]): Promise<RebuildReport> {
  const report = await rebuildFromMirror(dir);
  expect(report.records).toBe(expected.length);
  const store = await openStore({ dir });
  try {
    const verified = await store.verify();
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
    const held: MemoryRecord[] = [];
    for await (const line of store.export()) {
      const { v: _, ...record } = JSON.parse(line) as MemoryRecord & { v: number };
      held.push(record);
    }
    expect(held).toEqual([...expected].sort((left, right) => left.seq - right.seq));
  } finally {
    await store.close();
  }
  return report;
}

/** The one skipped line the report lists for the layer, checked against its kind, place and quarantine entry. */
function expectSkipped(report: RebuildReport, layer: string, where: { lineNumber: number; offset: number; text: string | Buffer }, kind: SkippedLineKind, reason: RegExp): void {
  const layerReport = report.layers.find((entry) => entry.layer === layer);
  expect(layerReport?.file).toBe(layerPath(layer));
  expect(layerReport?.badLines).toEqual([{ lineNumber: where.lineNumber, offset: where.offset, kind, reason: expect.stringMatching(reason) }]);
  expect(layerReport?.skippedLines).toBe(1);
  expect(layerReport?.skippedByKind[kind]).toBe(1);
  expect(report.skippedLines).toBe(1);
  expect(report.skippedByKind[kind]).toBe(1);
  const bytes = typeof where.text === 'string' ? Buffer.from(where.text, 'utf8') : where.text;
  const entries = quarantined(layer);
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ offset: where.offset, reason: expect.stringContaining(kind) });
  expect(Buffer.from(entries[0]!.fragment, entries[0]!.encoding as BufferEncoding).equals(bytes)).toBe(true);
  // The layer file is rewritten from the new database: the line is in the quarantine file only.
  expect(readFileSync(layerPath(layer)).includes(bytes)).toBe(false);
}

describe('rebuildFromMirror skips, quarantines and reports each kind of bad line, and rebuilds everything else', () => {
  it.each<[string, () => string, RegExp]>([
    ['an empty tag', () => rememberLine(newRecord(5, { tags: ['ok', ''] })), /record\.tags\[1\]: is empty/],
    ['a NUL in a tag', () => rememberLine(newRecord(5, { tags: ['a\u0000b'] })), /record\.tags\[0\]: contains a NUL/],
    ['tags that remember() would have trimmed', () => rememberLine(newRecord(5, { tags: [' padded'] })), /record\.tags: .* not as remember\(\) keeps tags/],
    ['a relative contextPath', () => rememberLine(newRecord(5, { contextPath: 'proj/a' })), /record\.contextPath: .*not absolute/],
    ['a contextPath that is not normalised', () => rememberLine(newRecord(5, { contextPath: '/a//b/' })), /record\.contextPath: .*not normalised/],
    ['a createdAt that is not a date', () => rememberLine(newRecord(5, { createdAt: 'yesterday' })), /record\.createdAt: .*not an ISO 8601 time/],
    ['a createdAt that is a date but not as memhub writes it', () => rememberLine(newRecord(5, { createdAt: '2024-05-01' })), /record\.createdAt/],
    ['blank content', () => rememberLine(newRecord(5, { content: ' \t' })), /record\.content: is empty/],
    ['metadata nested deeper than remember() takes', () => rememberLine(newRecord(5, { metadata: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) as Record<string, unknown> })), /record\.metadata.*deeper/],
    ['an empty key', () => rememberLine(newRecord(5, { key: '' })), /record\.key: is empty/],
    ['an id with a space', () => rememberLine(newRecord(5, { id: 'has space' })), /record\.id/],
    ['a record of another layer', () => rememberLine(newRecord(5, { layer: 'archive' })), /record\.layer: is "archive", but the line is in application\.jsonl/],
    ['a remember line whose record has another seq', () => rememberLine(newRecord(5), {}, 6), /record\.seq: is 5, not the line's seq 6/],
    ['a field a record does not have', () => rememberLine(newRecord(5), { colour: 'red' }), /record\.colour: is not a field/],
    ['a move-in whose record seq is not below the move', () => JSON.stringify({ v: 1, seq: 5, op: 'move-in', from: 'archive', record: { ...newRecord(6), layer: 'application' } }), /record\.seq: is 6, not between 1 and the move's seq 5/],
    ['a move-out to its own layer', () => JSON.stringify({ v: 1, seq: 5, op: 'move-out', id: seeded.a.id, to: 'application' }), /to: is this line's own layer/],
  ])('invalid-record: %s', async (_, makeLine, reason) => {
    const text = makeLine();
    const offset = insertLine('application', 5, text);
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expectSkipped(report, 'application', { lineNumber: 5, offset, text }, 'invalid-record', reason);
  });

  it.each<[string, string | Buffer, RegExp]>([
    ['not JSON', 'this is not json', /not JSON/],
    ['a JSON array', '[1,2,3]', /not a JSON object/],
    ['another format version', '{"v":2,"seq":5,"op":"forget","id":"x"}', /format version 2/],
    ['an unknown op', '{"v":1,"seq":5,"op":"explode"}', /unknown op/],
    ['a seq that is not a number', '{"v":1,"seq":"5","op":"forget","id":"x"}', /seq is not a positive integer/],
    ['a field a line does not have', '{"v":1,"seq":5,"op":"snapshot","records":3,"note":"hand-made"}', /"note" is not a field of a snapshot line/],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from('{"v":1,"seq":5,"op":"forget","id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), /not valid UTF-8/],
  ])('not-a-mirror-line: %s', async (_, text, reason) => {
    const offset = insertLine('application', 5, text);
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expectSkipped(report, 'application', { lineNumber: 5, offset, text }, 'not-a-mirror-line', reason);
  });

  it('torn-line: a last line without its newline', async () => {
    const before = readFileSync(layerPath('application'));
    const text = '{"v":1,"seq":5,"op":"remember","record":{"id":"torn';
    writeFileSync(layerPath('application'), Buffer.concat([before, Buffer.from(text)]));
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expectSkipped(report, 'application', { lineNumber: 5, offset: before.length, text }, 'torn-line', /torn last line/);
  });

  it('line-too-long: a line longer than any mirror line is skipped without being held, and quarantined in pieces', async () => {
    const before = readFileSync(layerPath('application'));
    const long = Buffer.alloc(65 * 1024 * 1024, 'x');
    writeFileSync(layerPath('application'), Buffer.concat([before, long, Buffer.from('\n')]));
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    const layerReport = report.layers.find((entry) => entry.layer === 'application');
    expect(layerReport?.badLines).toEqual([{ lineNumber: 5, offset: before.length, kind: 'line-too-long', reason: expect.stringContaining(`${long.length} bytes`) }]);
    const pieces = quarantined('application');
    expect(pieces.map((piece) => piece.offset)).toEqual(Array.from({ length: 9 }, (_, index) => before.length + index * 8 * 1024 * 1024));
    expect(pieces.reduce((bytes, piece) => bytes + piece.fragment.length, 0)).toBe(long.length);
  });

  it('key-in-use: a second record reusing another one\'s idempotency key (a hand edit or a git merge): the first keeps it, no SqliteError, no retry needed', async () => {
    const text = rememberLine(newRecord(5, { key: 'key-a' }));
    const offset = insertLine('application', 5, text);
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expectSkipped(report, 'application', { lineNumber: 5, offset, text }, 'key-in-use', new RegExp(`key key-a is the key of record ${seeded.a.id} too \\(seq 1, application\\.jsonl line 1\\), remembered earlier`));
  });

  it('key-in-use across layers: the key of an application record, on a record in archive', async () => {
    const text = JSON.stringify({ v: 1, seq: 5, op: 'remember', record: { ...newRecord(5, { key: 'key-b', layer: 'archive' }) } });
    const offset = insertLine('archive', 2, text);
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expectSkipped(report, 'archive', { lineNumber: 2, offset, text }, 'key-in-use', /key key-b is the key of record/);
  });

  it('duplicate-seq: two lines of one file with one seq; the first in the file counts', async () => {
    const text = rememberLine(newRecord(2));
    const offset = insertLine('application', 3, text);
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expectSkipped(report, 'application', { lineNumber: 3, offset, text }, 'duplicate-seq', /seq 2 is the seq of line 2 too/);
  });

  it('seq-in-use: a record in another layer with the seq of an application record', async () => {
    const text = JSON.stringify({ v: 1, seq: 5, op: 'move-in', from: 'application', record: newRecord(1, { id: '0198a0b0-0000-7000-8000-0000000000aa', layer: 'archive' }) });
    const offset = insertLine('archive', 2, text);
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expectSkipped(report, 'archive', { lineNumber: 2, offset, text }, 'seq-in-use', new RegExp(`seq 1 is the seq of record ${seeded.a.id} too`));
  });

  it('duplicate-id: a record id that appears twice in one layer, the second time with another seq', async () => {
    const text = rememberLine(seeded.b, { seq: 5, content: 'beta, edited' });
    const offset = insertLine('application', 5, text);
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expectSkipped(report, 'application', { lineNumber: 5, offset, text }, 'duplicate-id', new RegExp(`record ${seeded.b.id} is in this layer already \\(line 2\\)`));
  });

  it.each<[string, string, number, () => string]>([
    ['a forget of a record that was never there', 'archive', 2, () => JSON.stringify({ v: 1, seq: 5, op: 'forget', id: 'no-such-record' })],
    ['a forget of a record of another layer', 'archive', 2, () => JSON.stringify({ v: 1, seq: 5, op: 'forget', id: seeded.a.id })],
    ['a move-out of a record that already moved out', 'application', 5, () => JSON.stringify({ v: 1, seq: 5, op: 'move-out', id: seeded.c.id, to: 'archive' })],
  ])('not a bad line: %s (a no-op, as the mirror\'s own catch-up writes them and verify() replays them)', async (_, layer, lineNumber, makeLine) => {
    insertLine(layer, lineNumber, makeLine());
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expect(report.skippedLines).toBe(0);
    expect(quarantined(layer)).toHaveLength(0);
  });

  it('superseded: a record in two layers (its move-out line lost) stays in the layer that has it as of the later seq', async () => {
    // Drop c's move-out from application: application now holds c from seq 3, archive from seq 4.
    const lines = linesOf('application');
    writeFileSync(layerPath('application'), `${lines.slice(0, 3).join('\n')}\n`);
    const offset = Buffer.byteLength(`${lines.slice(0, 2).join('\n')}\n`);
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expectSkipped(report, 'application', { lineNumber: 3, offset, text: lines[2]! }, 'superseded', new RegExp(`record ${seeded.c.id} is in layer archive too, as of a later seq \\(4, archive\\.jsonl line 1\\)`));
  });

  it('a file out of seq order is replayed in seq order: nothing is skipped, and the lines are counted as reordered', async () => {
    const lines = linesOf('application');
    // c's move-out (seq 4) before a's remember (seq 1) and b's (seq 2).
    writeFileSync(layerPath('application'), `${[lines[3], lines[1], lines[2], lines[0]].join('\n')}\n`);
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expect(report.skippedLines).toBe(0);
    expect(report.layers.find((entry) => entry.layer === 'application')).toMatchObject({ lines: 4, reordered: 3, badLines: [] });
    expect(readLayerFile(dir, 'application').map((line) => line.seq)).toEqual([1, 2, 4]);
  });

  it('many bad lines at once: each is reported once, the report counts them by kind, and a second rebuild of the rewritten files skips nothing', async () => {
    insertLine('application', 5, 'garbage');
    insertLine('application', 6, rememberLine(newRecord(6, { key: 'key-a' })));
    insertLine('application', 7, rememberLine(newRecord(7, { tags: [''] })));
    insertLine('application', 8, JSON.stringify({ v: 1, seq: 8, op: 'remember', record: 'not a record' }));
    insertLine('archive', 2, rememberLine(newRecord(9, { layer: 'archive' })));
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c, newRecord(9, { layer: 'archive' })]);
    expect(report.skippedLines).toBe(4);
    expect(report.skippedByKind).toMatchObject({ 'not-a-mirror-line': 2, 'key-in-use': 1, 'invalid-record': 1, 'duplicate-id': 0 });
    expect(report.layers.find((entry) => entry.layer === 'application')?.badLines.map((bad) => [bad.lineNumber, bad.kind])).toEqual([
      [5, 'not-a-mirror-line'],
      [6, 'key-in-use'],
      [7, 'invalid-record'],
      [8, 'not-a-mirror-line'],
    ]);
    expect(quarantined('application')).toHaveLength(4);

    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `memory.db${suffix}`), { force: true });
    const again = await rebuildExpecting([seeded.a, seeded.b, seeded.c, newRecord(9, { layer: 'archive' })]);
    expect(again.skippedLines).toBe(0);
    expect(quarantined('application')).toHaveLength(4);
  });

  it('the rebuilt store hands out seqs above every line it applied (a skipped line does not count), and the new database is marked finished', async () => {
    insertLine('application', 5, JSON.stringify({ v: 1, seq: 7, op: 'snapshot', records: 2 }));
    insertLine('application', 6, `${JSON.stringify({ v: 1, seq: 50, op: 'forget', id: 'nobody' }).slice(0, -1)},"extra":1}`);
    const report = await rebuildExpecting([seeded.a, seeded.b, seeded.c]);
    expect(report.skippedByKind['not-a-mirror-line']).toBe(1);
    expect(report.lastSeq).toBe(7);
    const db = new Database(join(dir, 'memory.db'), { readonly: true });
    const unfinished = db.prepare(`SELECT count(*) FROM store_settings WHERE name = 'rebuild-in-progress'`).pluck().get();
    db.close();
    expect(unfinished).toBe(0);
    const store = await openStore({ dir });
    try {
      expect((await store.remember({ content: 'next' })).seq).toBe(8);
    } finally {
      await store.close();
    }
  });
});

describe('a rebuild killed while it rewrites the layer files', () => {
  it('has quarantined the skipped lines and finished the database; the next open rebuilds the layer file it cut short, and verify is clean', async () => {
    const text = rememberLine(newRecord(5, { tags: [''] }));
    insertLine('application', 5, text);
    // application.jsonl is rewritten first (layers go in name order): the rebuild dies halfway through it.
    const rebuilder = startStoreFixture('rebuilder.ts', [dir], { MEMHUB_FAULT: 'mirror-mid-rebuild' });
    expect(await rebuilder.exited(), rebuilder.stderr).toBe('SIGKILL');
    expect(quarantined('application').map((entry) => entry.fragment)).toEqual([text]);
    expect(linesOf('application')).toHaveLength(1);

    const store = await openStore({ dir });
    try {
      expect((await store.verify()).problems).toEqual([]);
      for (const record of [seeded.a, seeded.b, seeded.c]) expect(await store.get(record.id)).toEqual(record);
      expect((await store.stats()).records).toBe(3);
    } finally {
      await store.close();
    }
    expect(readLayerFile(dir, 'application').map((line) => line.op)).toEqual(['remember', 'remember', 'snapshot']);
  });
});
