import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, rebuildFromMirror, type MemoryRecord, type Store } from '../src/index.js';

/**
 * The property: whatever edits a valid mirror goes through (a line deleted, duplicated, swapped
 * with another, a field changed to a wrong type or a bad value or another record's id, key or
 * seq, a line cut short, the file torn mid-line, garbage inserted), rebuildFromMirror() finishes,
 * the store opens and verifies clean, and it holds every record whose lines were intact, exactly
 * as the original store had it (and holds no intact record the original store had forgotten).
 *
 * A record R is intact when:
 * (a) every line of the original mirror that names R (its remember and move-in lines, its forget
 *     and move-out lines, the recall-counts lines that count it) is still in its file, byte for
 *     byte, as a whole line (it may have moved, or been duplicated: a copy has the same seq, and
 *     one seq counts once);
 * (b) no line that is not byte for byte an original line of its file (a changed line, a line cut
 *     short, the torn end of a file, inserted garbage that happens to be JSON) carries, as its seq,
 *     id, record id, record seq, record key or as a counted id, R's id, R's key, R's seq or the
 *     seq of one of R's lines.
 * The original stores never reuse a key, so (a) and (b) leave nothing else that could take R's
 * place, seq or key.
 *
 * Runs: MEMHUB_REBUILD_PROPERTY_RUNS (default 60); a failure prints fast-check's seed and path,
 * which MEMHUB_REBUILD_PROPERTY_SEED and MEMHUB_REBUILD_PROPERTY_PATH replay.
 */

const RUNS = Number(process.env['MEMHUB_REBUILD_PROPERTY_RUNS'] ?? 60);
const SEED = process.env['MEMHUB_REBUILD_PROPERTY_SEED'];
const PATH = process.env['MEMHUB_REBUILD_PROPERTY_PATH'];

/** A valid mirror, as a store left it, and what that store held. */
interface BaseMirror {
  readonly name: string;
  /** Layer -> the file's lines (without their `\n`). */
  readonly files: ReadonlyMap<string, readonly string[]>;
  /** Every record the store held when it closed. */
  readonly live: ReadonlyMap<string, MemoryRecord>;
  /** Every record any line mentions: its key and seq. */
  readonly records: ReadonlyMap<string, { readonly key: string | null; readonly seq: number }>;
}

let workspace: string;
const bases: BaseMirror[] = [];

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'memhub-rebuild-property-'));
  bases.push(await makeBase('moves, forgets and counts', async () => {}));
  bases.push(
    await makeBase('with an archive file rewritten by repair() (a snapshot), then more changes', async (store, dir, records) => {
      writeFileSync(join(dir, 'layers', 'archive.jsonl'), 'a line that is not a mirror line\n', { flag: 'a' });
      const repaired = await store.repair();
      expect(repaired.after.ok).toBe(true);
      await store.archive({ ids: [records[6]!.id] });
      await store.recall({ layer: 'archive', limit: 100 });
      await store.flush();
      await store.forget(records[0]!.id);
    }),
  );
}, 60_000);

afterAll(() => {
  rmSync(workspace, { recursive: true, force: true });
});

/** A store with records in three layers, keys, tags, metadata, recall counts, moves and forgets; then `more`. */
async function makeBase(name: string, more: (store: Store, dir: string, records: MemoryRecord[]) => Promise<void>): Promise<BaseMirror> {
  const dir = mkdtempSync(join(workspace, 'base-'));
  const store = await openStore({ dir });
  const records = await store.rememberMany(
    Array.from({ length: 9 }, (_, index) => ({
      content: `record ${index} ${index % 3 === 0 ? 'café ☕' : 'plain'}`,
      tags: index % 2 === 0 ? ['even', `t${index}`] : [],
      contextPath: `/project/${index % 3}`,
      layer: index % 4 === 3 ? 'notes' : 'application',
      metadata: index % 2 === 1 ? { index, nested: { list: [index, 'x'] } } : {},
      ...(index % 3 !== 2 ? { key: `key-${index}` } : {}),
    })),
  );
  await store.recall({ query: 'record', limit: 5 });
  await store.flush();
  await store.archive({ ids: [records[1]!.id, records[2]!.id, records[4]!.id] });
  await store.forget(records[2]!.id);
  await store.forget(records[5]!.id);
  records.push(await store.remember({ content: 'remembered late', key: 'key-late', tags: ['late'] }));
  await store.recall({ tags: ['even'], limit: 3 });
  await store.flush();
  await more(store, dir, records);
  const verified = await store.verify();
  expect(verified.problems).toEqual([]);
  const live = new Map<string, MemoryRecord>();
  for await (const line of store.export()) {
    const { v: _, ...record } = JSON.parse(line) as MemoryRecord & { v: number };
    live.set(record.id, record);
  }
  await store.close();
  const files = new Map<string, string[]>();
  const known = new Map<string, { key: string | null; seq: number }>();
  for (const entry of readdirSync(join(dir, 'layers')).filter((file) => file.endsWith('.jsonl')).sort()) {
    const lines = readFileSync(join(dir, 'layers', entry), 'utf8').slice(0, -1).split('\n');
    files.set(entry.slice(0, -'.jsonl'.length), lines);
    for (const line of lines) {
      const parsed = JSON.parse(line) as { record?: { id: string; key: string | null; seq: number } };
      if (parsed.record !== undefined) known.set(parsed.record.id, { key: parsed.record.key, seq: parsed.record.seq });
    }
  }
  return { name, files, live, records: known };
}

type Edit =
  | { readonly kind: 'delete'; readonly file: number; readonly line: number }
  | { readonly kind: 'duplicate'; readonly file: number; readonly line: number; readonly to: number }
  | { readonly kind: 'swap'; readonly file: number; readonly line: number; readonly other: number }
  | { readonly kind: 'change'; readonly file: number; readonly line: number; readonly field: string; readonly value: unknown }
  | { readonly kind: 'reuse'; readonly file: number; readonly line: number; readonly what: 'id' | 'key' | 'seq'; readonly from: number }
  | { readonly kind: 'cut'; readonly file: number; readonly line: number; readonly keep: number }
  | { readonly kind: 'tear'; readonly file: number; readonly line: number; readonly keep: number }
  | { readonly kind: 'garbage'; readonly file: number; readonly at: number; readonly text: string };

const FIELDS = [
  'v',
  'seq',
  'op',
  'id',
  'to',
  'from',
  'counts',
  'record',
  'record.id',
  'record.seq',
  'record.content',
  'record.tags',
  'record.contextPath',
  'record.layer',
  'record.createdAt',
  'record.recallCount',
  'record.metadata',
  'record.key',
];

const badValue = fc.oneof(
  fc.constantFrom<unknown>(null, '', -1, 0, 1.5, 2 ** 53, true, [], {}, [''], ['a\u0000b'], [' padded'], 'not a date', '2024-01-01', 'relative/path', '/a//b/', '../x', 'Archive', ' ', 'a\u0000b'),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 60 }),
);

const anEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), file: fc.nat(), line: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), file: fc.nat(), line: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), file: fc.nat(), line: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('change' as const), file: fc.nat(), line: fc.nat(), field: fc.constantFrom(...FIELDS), value: badValue }),
  fc.record({ kind: fc.constant('reuse' as const), file: fc.nat(), line: fc.nat(), what: fc.constantFrom('id' as const, 'key' as const, 'seq' as const), from: fc.nat() }),
  fc.record({ kind: fc.constant('cut' as const), file: fc.nat(), line: fc.nat(), keep: fc.nat() }),
  fc.record({ kind: fc.constant('tear' as const), file: fc.nat(), line: fc.nat(), keep: fc.nat() }),
  fc.record({ kind: fc.constant('garbage' as const), file: fc.nat(), at: fc.nat(), text: fc.string({ maxLength: 30 }).map((text) => text.replaceAll('\n', ' ')) }),
);

/** A mirror being edited: each file's whole lines, and the bytes of a torn end (after the last `\n`). */
interface EditedMirror {
  readonly lines: Map<string, string[]>;
  readonly torn: Map<string, Buffer>;
}

function applyEdit(mirror: EditedMirror, base: BaseMirror, edit: Edit): void {
  const layers = [...mirror.lines.keys()];
  const layer = layers[edit.file % layers.length] as string;
  const lines = mirror.lines.get(layer) as string[];
  if (edit.kind === 'garbage') {
    lines.splice(edit.at % (lines.length + 1), 0, edit.text);
    return;
  }
  if (lines.length === 0) return;
  const index = edit.line % lines.length;
  const text = lines[index] as string;
  switch (edit.kind) {
    case 'delete':
      lines.splice(index, 1);
      return;
    case 'duplicate':
      lines.splice(edit.to % (lines.length + 1), 0, text);
      return;
    case 'swap': {
      const other = edit.other % lines.length;
      lines[index] = lines[other] as string;
      lines[other] = text;
      return;
    }
    case 'change':
    case 'reuse': {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
      if (edit.kind === 'change') setPath(parsed, edit.field, edit.value);
      else reuse(parsed, base, edit.what, edit.from);
      lines[index] = JSON.stringify(parsed);
      return;
    }
    case 'cut': {
      const bytes = Buffer.from(text, 'utf8');
      lines[index] = bytes.subarray(0, edit.keep % Math.max(1, bytes.length)).toString('utf8');
      return;
    }
    case 'tear': {
      const bytes = Buffer.from(text, 'utf8');
      lines.splice(index);
      mirror.torn.set(layer, bytes.subarray(0, 1 + (edit.keep % Math.max(1, bytes.length - 1))));
      return;
    }
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const [head, rest] = path.split('.') as [string, string | undefined];
  if (rest === undefined) {
    target[head] = value;
    return;
  }
  const inner = target[head];
  if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) (inner as Record<string, unknown>)[rest] = value;
  else target[head] = { [rest]: value };
}

/** Gives the line another record's id, key or seq (a remember line's own seq too, so that only the reuse is wrong with it). */
function reuse(line: Record<string, unknown>, base: BaseMirror, what: 'id' | 'key' | 'seq', from: number): void {
  const others = [...base.records.entries()];
  const [id, other] = others[from % others.length] as [string, { key: string | null; seq: number }];
  const record = line['record'];
  if (typeof record === 'object' && record !== null) {
    const fields = record as Record<string, unknown>;
    if (what === 'id') fields['id'] = id;
    if (what === 'key') fields['key'] = other.key ?? `key-of-${id}`;
    if (what === 'seq') {
      fields['seq'] = other.seq;
      if (line['op'] === 'remember') line['seq'] = other.seq;
    }
  } else if (what === 'id') {
    line['id'] = id;
  } else if (what === 'seq') {
    line['seq'] = other.seq;
  }
}

/** The bytes of each edited file. */
function fileBytes(mirror: EditedMirror, layer: string): Buffer {
  const lines = mirror.lines.get(layer) as string[];
  return Buffer.concat([Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8'), mirror.torn.get(layer) ?? Buffer.alloc(0)]);
}

/** Which records of the base are intact after the edits (see the definition at the top). */
function intactRecords(base: BaseMirror, mirror: EditedMirror): Set<string> {
  const tokens = new Set<string>();
  const note = (value: unknown) => {
    if (typeof value === 'string' || typeof value === 'number') tokens.add(String(value));
  };
  const presentLines = new Map<string, Set<string>>();
  for (const [layer, lines] of mirror.lines) {
    const originals = new Set(base.files.get(layer));
    presentLines.set(layer, new Set(lines));
    const foreign = lines.filter((line) => !originals.has(line));
    const tail = mirror.torn.get(layer);
    if (tail !== undefined) foreign.push(tail.toString('utf8'));
    for (const line of foreign) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof parsed !== 'object' || parsed === null) continue;
      const value = parsed as Record<string, unknown>;
      note(value['seq']);
      note(value['id']);
      if (typeof value['record'] === 'object' && value['record'] !== null) {
        const record = value['record'] as Record<string, unknown>;
        note(record['id']);
        note(record['seq']);
        note(record['key']);
      }
      if (typeof value['counts'] === 'object' && value['counts'] !== null) Object.keys(value['counts']).forEach(note);
    }
  }
  const intact = new Set<string>();
  for (const [id, { key, seq }] of base.records) {
    if (tokens.has(id) || tokens.has(String(seq)) || (key !== null && tokens.has(key))) continue;
    let whole = true;
    for (const [layer, lines] of base.files) {
      for (const line of lines.filter((text) => namesRecord(text, id))) {
        if (!(presentLines.get(layer) as Set<string>).has(line) || tokens.has(String((JSON.parse(line) as { seq: number }).seq))) whole = false;
      }
    }
    if (whole) intact.add(id);
  }
  return intact;
}

function namesRecord(line: string, id: string): boolean {
  const parsed = JSON.parse(line) as { id?: string; record?: { id: string }; counts?: Record<string, number> };
  return parsed.id === id || parsed.record?.id === id || (parsed.counts !== undefined && id in parsed.counts);
}

describe('rebuildFromMirror, property', () => {
  it(
    'any edits to a valid mirror leave a rebuild that finishes, a store that opens and verifies clean, and every intact record as it was',
    async () => {
      let run = 0;
      const tally = { runs: 0, intact: 0, records: 0 };
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.array(anEdit, { minLength: 1, maxLength: 4 }), async (which, edits) => {
          const base = bases[which % bases.length] as BaseMirror;
          const mirror: EditedMirror = { lines: new Map([...base.files].map(([layer, lines]) => [layer, [...lines]])), torn: new Map() };
          for (const edit of edits) applyEdit(mirror, base, edit);
          const dir = join(workspace, `run-${(run += 1)}`);
          mkdirSync(join(dir, 'layers'), { recursive: true });
          try {
            for (const layer of mirror.lines.keys()) writeFileSync(join(dir, 'layers', `${layer}.jsonl`), fileBytes(mirror, layer));
            const report = await rebuildFromMirror(dir);
            for (const layer of report.layers) {
              const quarantine = join(dir, 'layers', `${layer.layer}.jsonl.quarantine`);
              const entries = existsSync(quarantine) ? readFileSync(quarantine, 'utf8').split('\n').filter((line) => line !== '') : [];
              expect(entries).toHaveLength(layer.skippedLines);
            }
            const store = await openStore({ dir });
            try {
              const verified = await store.verify();
              expect(verified.problems).toEqual([]);
              expect(verified.ok).toBe(true);
              expect((await store.stats()).records).toBe(report.records);
              const intact = intactRecords(base, mirror);
              tally.runs += 1;
              tally.intact += intact.size;
              tally.records += base.records.size;
              for (const id of intact) {
                expect(await store.get(id), `record ${id} (${base.live.has(id) ? 'live' : 'forgotten'} in the base "${base.name}")`).toEqual(base.live.get(id) ?? null);
              }
            } finally {
              await store.close();
            }
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: Number(SEED) }), ...(PATH === undefined ? {} : { path: PATH }) },
      );
      // Not vacuous: most records come through a few edits intact, and are checked.
      expect(tally.intact).toBeGreaterThan(tally.records / 2);
    },
    120_000,
  );
});
