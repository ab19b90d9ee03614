import type { StoreChange, StoredRecord } from '../../changes/store-change.js';
import type { JournalRow, SqliteStatements } from './sqlite-statements.js';
import type { MirrorOp, RecordRow } from './sqlite-tables.js';

/** Which layers are mirrored, as `store_settings.mirror` says: every one, some, or none. */
export type MirrorSelection = { readonly kind: 'all' } | { readonly kind: 'some'; readonly layers: ReadonlySet<string> } | { readonly kind: 'off' };

export function parseMirrorSetting(value: string | undefined): MirrorSelection {
  if (value === undefined || value === '*') return { kind: 'all' };
  if (value === 'off') return { kind: 'off' };
  return { kind: 'some', layers: new Set(JSON.parse(value) as string[]) };
}

export function isMirrored(selection: MirrorSelection, layer: string): boolean {
  return selection.kind === 'all' || (selection.kind === 'some' && selection.layers.has(layer));
}

/** A row of `records` as a StoredRecord (its tags and metadata stay JSON text). */
export function storedRecordOfRow(row: RecordRow): StoredRecord {
  return {
    id: row.id,
    seq: row.seq,
    content: row.content,
    tagsJson: row.tags,
    contextPath: row.context_path,
    layer: row.layer,
    createdAt: row.created_at,
    recallCount: row.recall_count,
    metadataJson: row.metadata,
    key: row.idempotency_key,
    updatedAt: row.updated_at,
    pinned: row.pinned === 1,
    expiresAt: row.expires_at,
  };
}

/**
 * The mirror journal (`mirror_journal`): the changes of mirrored layers that their JSONL files
 * may not have yet, written in the transaction that makes them, so that a layer's file can always
 * be brought up to date from the database, whoever commits and whoever crashes. One row per layer
 * a change concerns, except that a run of remembers into one layer with consecutive seqs (a group
 * commit's records) is one row, `seq` to `through`, whatever its length. The rows name records
 * by id; the record's content is read from `records` when the line is appended.
 */
export class ChangeJournal {
  readonly #statements: SqliteStatements;

  constructor(statements: SqliteStatements) {
    this.#statements = statements;
  }

  /** Inside the write transaction: the journal rows of these changes, in order. Returns the mirrored layers they touch. */
  write(changes: readonly StoreChange[], mirror: MirrorSelection): Set<string> {
    const touched = new Set<string>();
    let run: { layer: string; first: number; last: number } | undefined;
    const closeRun = () => {
      if (run === undefined) return;
      this.#insert(run.layer, run.first, 'remember', run.last, null, null);
      run = undefined;
    };
    const row = (layer: string, seq: number, op: MirrorOp, recordId: string | null, detail: string | null) => {
      if (!isMirrored(mirror, layer)) return;
      this.#insert(layer, seq, op, null, recordId, detail);
      touched.add(layer);
    };
    for (const change of changes) {
      switch (change.kind) {
        case 'remember': {
          const layer = change.record.layer;
          if (!isMirrored(mirror, layer)) break;
          touched.add(layer);
          if (run !== undefined && run.layer === layer && run.last === change.seq - 1) run.last = change.seq;
          else {
            closeRun();
            run = { layer, first: change.seq, last: change.seq };
          }
          break;
        }
        case 'update':
          // An update that moves the record leaves the layer it was in, as a move does.
          if (change.from !== change.record.layer) row(change.from, change.seq, 'move-out', change.record.id, JSON.stringify({ to: change.record.layer }));
          row(change.record.layer, change.seq, 'update', change.record.id, null);
          break;
        case 'forget':
          row(change.layer, change.seq, 'forget', change.id, null);
          break;
        case 'move':
          // One change, one seq, seen from both sides: it leaves one layer's file and enters the other's.
          row(change.from, change.seq, 'move-out', change.id, JSON.stringify({ to: change.to }));
          row(change.to, change.seq, 'move-in', change.id, JSON.stringify({ from: change.from }));
          break;
        case 'recall-counts': {
          const byLayer = new Map<string, Record<string, number>>();
          for (const { id, layer, total } of change.totals) {
            let counts = byLayer.get(layer);
            if (counts === undefined) byLayer.set(layer, (counts = {}));
            counts[id] = total;
          }
          for (const [layer, counts] of byLayer) row(layer, change.seq, 'recall-counts', null, JSON.stringify({ counts }));
          break;
        }
      }
    }
    closeRun();
    return touched;
  }

  #insert(layer: string, seq: number, op: MirrorOp, through: number | null, recordId: string | null, detail: string | null): void {
    this.#statements.insertJournal.run({ layer, seq, op, through, record_id: recordId, detail });
  }
}

/**
 * A journal row read back (journalAfter, which joins each row with the record it names as the
 * record is now) as the change it stands for, seen from `layer`; undefined when it has nothing to
 * say there any more (a remembered record forgotten or moved away since: the change that took it
 * out follows in the journal).
 */
export function changeOfJournalRow(layer: string, row: JournalRow): StoreChange | undefined {
  const record = row.id === null ? undefined : storedRecordOfRow(row as RecordRow);
  switch (row.op) {
    case 'remember':
      return record === undefined ? undefined : { kind: 'remember', seq: row.line_seq, record: { ...record, layer } };
    case 'update':
      // The line carries the version of its seq: one updated again since is passed over (its
      // later update follows in the journal), and so is one forgotten since (its forget follows).
      return record === undefined || record.seq !== row.line_seq ? undefined : { kind: 'update', seq: row.line_seq, record: { ...record, layer }, from: layer };
    case 'move-in': {
      const from = (JSON.parse(row.detail ?? '{}') as { from?: string }).from ?? 'application';
      // A record moved in and forgotten since has no line left: its forget follows.
      return record === undefined ? undefined : { kind: 'move', seq: row.line_seq, id: record.id, from, to: layer, record: { ...record, layer } };
    }
    case 'move-out': {
      const to = (JSON.parse(row.detail ?? '{}') as { to?: string }).to ?? 'archive';
      return { kind: 'move', seq: row.line_seq, id: row.record_id as string, from: layer, to, record: undefined };
    }
    case 'forget':
      return { kind: 'forget', seq: row.line_seq, id: row.record_id as string, layer };
    case 'recall-counts': {
      const counts = (JSON.parse(row.detail ?? '{}') as { counts?: Record<string, number> }).counts ?? {};
      return { kind: 'recall-counts', seq: row.line_seq, totals: Object.entries(counts).map(([id, total]) => ({ id, layer, total })) };
    }
  }
}
