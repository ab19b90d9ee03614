import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** A mirror line as a test reads it: plain JSON, checked by the test itself, not by memhub's parser. */
export interface RawMirrorLine {
  readonly v: number;
  readonly seq: number;
  readonly op: string;
  readonly id?: string;
  readonly record?: { readonly id: string; readonly recallCount: number; readonly [field: string]: unknown };
  readonly counts?: Readonly<Record<string, number>>;
}

/**
 * Reads a layer file the way an outside tool would, and checks its framing: the file ends with
 * `\n`, every line is one JSON object with format version 1, and seqs strictly increase.
 */
export function readLayerFile(dir: string, layer: string): RawMirrorLine[] {
  const text = readFileSync(join(dir, 'layers', `${layer}.jsonl`), 'utf8');
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error(`${layer}.jsonl does not end with a newline`);
  const lines = text.slice(0, -1).split('\n').map((line, index) => {
    try {
      return JSON.parse(line) as RawMirrorLine;
    } catch {
      throw new Error(`${layer}.jsonl line ${index + 1} is not JSON: ${line.slice(0, 200)}`);
    }
  });
  lines.forEach((line, index) => {
    if (line.v !== 1) throw new Error(`${layer}.jsonl line ${index + 1} has version ${line.v}`);
    if (index > 0 && line.seq <= (lines[index - 1] as RawMirrorLine).seq) throw new Error(`${layer}.jsonl line ${index + 1}: seq does not increase`);
  });
  return lines;
}

/** The records a layer file adds up to (id -> recall count), replayed by the test's own rules. */
export function replayLayerFile(dir: string, layer: string): Map<string, number> {
  const records = new Map<string, number>();
  for (const line of readLayerFile(dir, layer)) {
    if ((line.op === 'remember' || line.op === 'update' || line.op === 'move-in') && line.record !== undefined) {
      records.set(line.record.id, Math.max(records.get(line.record.id) ?? 0, line.record.recallCount));
    } else if ((line.op === 'forget' || line.op === 'move-out') && line.id !== undefined) {
      records.delete(line.id);
    } else if (line.op === 'recall-counts' && line.counts !== undefined) {
      for (const [id, total] of Object.entries(line.counts)) if (records.has(id)) records.set(id, Math.max(records.get(id) ?? 0, total));
    }
  }
  return records;
}

/** The database's records of a layer (id -> recall count), read with a separate read-only connection. */
export function databaseLayer(dir: string, layer: string): Map<string, number> {
  const db = new Database(join(dir, 'memory.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT id, recall_count FROM records WHERE layer = ?').all(layer) as { id: string; recall_count: number }[];
    return new Map(rows.map((row) => [row.id, row.recall_count]));
  } finally {
    db.close();
  }
}
