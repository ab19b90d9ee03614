import type { MemoryRecord } from '../memory-record.js';
import { encodeLine, recordJsonFromTail, recordJsonText, type EncodedLine, type MirrorLine, type MirrorOpName } from '../mirror/mirror-line.js';
import type { StoreChange, StoredRecord } from './store-change.js';

/**
 * What each change means, said once for every view of the records:
 *
 * - to a layer's JSONL mirror, the line it appends (mirrorLineOf): a remember line in the record's
 *   layer, an update line (with the new version) in the record's layer and a move-out line in the
 *   layer an update moved it from, a forget line in the layer it left, a move-out line in the layer a move leaves and a
 *   move-in line (with the record) in the one it enters, a recall-counts line with the totals of
 *   the layer's records;
 * - back from a mirror line, what the line does to its layer's records (layerEffectOf): a record
 *   enters it (a remember, a move-in, or an update that replaces the version the layer had), leaves it, has its recall count raised, or nothing (a snapshot marks how far a
 *   rebuilt file is). verify() replays a file with it, and so does rebuildFromMirror().
 *
 * The SQLite engine's journal stores changes per mirrored layer and reads them back as changes
 * (engine/sqlite/sqlite-change-journal.ts); the search index follows the records themselves by seq
 * in a database of its own (engine/sqlite/sqlite-search-database.ts): a remember is a new row, a
 * forget a removal row it applies later, and moves and counts do not concern it.
 */

/** The line a change appends to `layer`'s mirror, or undefined when it has none there. */
export function mirrorLineOf(change: StoreChange, layer: string): EncodedLine | undefined {
  switch (change.kind) {
    case 'remember':
      if (change.record.layer !== layer) return undefined;
      return rememberLine(change.seq, change.record, change.recordTail);
    case 'update':
      if (change.record.layer === layer) return updateLine(change.seq, change.record);
      if (change.from === layer) return encodeLine({ v: 1, seq: change.seq, op: 'move-out', id: change.record.id, to: change.record.layer });
      return undefined;
    case 'forget':
      return change.layer === layer ? encodeLine({ v: 1, seq: change.seq, op: 'forget', id: change.id }) : undefined;
    case 'move':
      if (change.from === layer) return encodeLine({ v: 1, seq: change.seq, op: 'move-out', id: change.id, to: change.to });
      if (change.to === layer && change.record !== undefined) return moveInLine(change.seq, change.record, change.from);
      return undefined;
    case 'recall-counts': {
      const counts: Record<string, number> = {};
      let any = false;
      for (const total of change.totals) {
        if (total.layer !== layer) continue;
        counts[total.id] = total.total;
        any = true;
      }
      return any ? encodeLine({ v: 1, seq: change.seq, op: 'recall-counts', counts }) : undefined;
    }
  }
}

/** The lines of a run of changes for one layer, in order. */
export function mirrorLinesOf(changes: readonly StoreChange[], layer: string): EncodedLine[] {
  const lines: EncodedLine[] = [];
  for (const change of changes) {
    const line = mirrorLineOf(change, layer);
    if (line !== undefined) lines.push(line);
  }
  return lines;
}

/** A record's remember line, as it would be rewritten into a layer file that is rebuilt (a snapshot). */
export function snapshotLineOf(record: StoredRecord): EncodedLine {
  return rememberLine(record.seq, record, undefined);
}

/** What one mirror line does to its layer's records. */
export type LayerEffect =
  | { readonly kind: 'enter'; readonly record: MemoryRecord }
  | { readonly kind: 'leave'; readonly id: string }
  | { readonly kind: 'raise-counts'; readonly counts: Readonly<Record<string, number>> }
  | { readonly kind: 'none' };

/**
 * What a line does to its layer: remember and move-in enter the record (as the line has it);
 * forget and move-out take it out (a no-op when the layer does not hold it: the mirror's own
 * catch-up leaves a forget without its remember when a record was moved in and forgotten before
 * its lines were appended); recall-counts raise the totals of records the layer holds (totals only
 * grow, so they replay by maximum and a line applied twice counts once); a snapshot changes nothing.
 */
export function layerEffectOf(line: MirrorLine): LayerEffect {
  switch (line.op) {
    case 'remember':
    case 'update':
    case 'move-in':
      return { kind: 'enter', record: line.record };
    case 'forget':
    case 'move-out':
      return { kind: 'leave', id: line.id };
    case 'recall-counts':
      return { kind: 'raise-counts', counts: line.counts };
    case 'snapshot':
      return { kind: 'none' };
  }
}

/** The kind of a line's effect from its op alone, for a replay that keeps lines in its own form (rebuildFromMirror's staging tables). */
export const LAYER_EFFECT_OF_OP: Readonly<Record<MirrorOpName, LayerEffect['kind']>> = {
  remember: 'enter',
  update: 'enter',
  'move-in': 'enter',
  forget: 'leave',
  'move-out': 'leave',
  'recall-counts': 'raise-counts',
  snapshot: 'none',
};

function rememberLine(seq: number, record: StoredRecord, recordTail: string | undefined): EncodedLine {
  const recordJson = recordTail !== undefined && record.recallCount === 0 ? recordJsonFromTail(record.id, seq, recordTail) : recordText(record);
  return { seq, op: 'remember', recordId: record.id, text: `{"v":1,"seq":${seq},"op":"remember","record":${recordJson}}\n` };
}

/** An update line: the record's new version, whose seq is the line's (as a remember line's is). */
function updateLine(seq: number, record: StoredRecord): EncodedLine {
  return { seq, op: 'update', recordId: record.id, text: `{"v":1,"seq":${seq},"op":"update","record":${recordText(record)}}\n` };
}

function moveInLine(seq: number, record: StoredRecord, from: string): EncodedLine {
  return { seq, op: 'move-in', recordId: record.id, text: `{"v":1,"seq":${seq},"op":"move-in","from":${JSON.stringify(from)},"record":${recordText(record)}}\n` };
}

/** The record object of a line, from the stored record: its tags and metadata go in as the JSON they are. */
function recordText(record: StoredRecord): string {
  return recordJsonText({
    id: record.id,
    seq: record.seq,
    content: record.content,
    tagsJson: record.tagsJson,
    contextPath: record.contextPath,
    layer: record.layer,
    createdAt: new Date(record.createdAt).toISOString(),
    recallCount: record.recallCount,
    metadataJson: record.metadataJson,
    key: record.key,
    updatedAt: record.updatedAt === null ? undefined : new Date(record.updatedAt).toISOString(),
    pinned: record.pinned,
    expiresAt: record.expiresAt === null ? undefined : new Date(record.expiresAt).toISOString(),
  });
}
