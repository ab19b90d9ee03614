/**
 * A record as the store keeps it: its tags and metadata as the JSON text the database holds, its
 * time in epoch milliseconds. What a change carries, so that a view can be written from it without
 * parsing and stringifying the record again.
 */
export interface StoredRecord {
  readonly id: string;
  readonly seq: number;
  readonly content: string;
  /** JSON array of strings. */
  readonly tagsJson: string;
  readonly contextPath: string;
  readonly layer: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly recallCount: number;
  /** JSON object. */
  readonly metadataJson: string;
  readonly key: string | null;
  /** Epoch milliseconds: when the current version was written by an update; null if never updated. */
  readonly updatedAt: number | null;
  readonly pinned: boolean;
  /** Epoch milliseconds; null if it never expires. */
  readonly expiresAt: number | null;
}

/**
 * One change of the store, with the seq it took from the one store-wide counter: what a write
 * transaction did, as every view of the records (each layer's JSONL mirror and its index, verify,
 * the rebuilds) reads it. The write transaction returns its changes; what each one means to a
 * view is said once, in change-codec.ts.
 *
 * - `remember`: a record entered its layer (remember or import). `recordTail` is the record's
 *   JSON but for its id and seq, when the writer made it ahead (see recordJsonTail()).
 * - `update`: a new version of the record (its seq is the change's); it was in `from` before, and
 *   is in `record.layer` now (an update may move it).
 * - `forget`: the record, which was in `layer`, was deleted.
 * - `move`: the record left `from` for `to` (archive). `record` is the record as it is after the
 *   move; a change read back from the journal has none when the record was forgotten since.
 * - `recall-counts`: new recall-count totals (totals, not increments: applying one twice counts once).
 */
export type StoreChange =
  | { readonly kind: 'remember'; readonly seq: number; readonly record: StoredRecord; readonly recordTail?: string }
  | { readonly kind: 'update'; readonly seq: number; readonly record: StoredRecord; readonly from: string }
  | { readonly kind: 'forget'; readonly seq: number; readonly id: string; readonly layer: string }
  | {
      readonly kind: 'move';
      readonly seq: number;
      readonly id: string;
      readonly from: string;
      readonly to: string;
      readonly record: StoredRecord | undefined;
    }
  | { readonly kind: 'recall-counts'; readonly seq: number; readonly totals: readonly RecallCountTotal[] };

/** A record's recall count after a flush of increments, and the layer the record is in. */
export interface RecallCountTotal {
  readonly id: string;
  readonly layer: string;
  readonly total: number;
}

/** The layers a change concerns: the record's, both ends of a move, those of the counted records. */
export function layersOfChange(change: StoreChange): readonly string[] {
  switch (change.kind) {
    case 'remember':
      return [change.record.layer];
    case 'update':
      return change.from === change.record.layer ? [change.from] : [change.from, change.record.layer];
    case 'forget':
      return [change.layer];
    case 'move':
      return [change.from, change.to];
    case 'recall-counts':
      return [...new Set(change.totals.map((total) => total.layer))];
  }
}
