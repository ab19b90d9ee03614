/** One thing verify() found wrong, in words a person can act on. */
export interface VerifyProblem {
  /** What kind of problem: stable names that callers and the CLI branch on. */
  readonly kind:
    | 'database-integrity'
    | 'full-text-index'
    | 'tags'
    | 'sequence'
    | 'history'
    | 'mirror-missing'
    | 'mirror-extra'
    | 'mirror-different'
    | 'mirror-bad-line'
    | 'mirror-order'
    | 'mirror-torn-tail'
    | 'mirror-index';
  /** The mirrored layer concerned, for mirror problems. */
  readonly layer?: string;
  readonly message: string;
}

/** How one layer's JSONL mirror compares with the database. */
export interface LayerVerifyReport {
  readonly layer: string;
  /** The mirror file, `layers/<layer>.jsonl`. */
  readonly file: string;
  /** Records of the layer in the database. */
  readonly records: number;
  /** Records the mirror's lines add up to, replayed in order. */
  readonly mirrored: number;
  /** Ids in the database but not in the mirror, in the mirror but not in the database, and in both but not alike (at most 100 of each). */
  readonly missing: readonly string[];
  readonly extra: readonly string[];
  readonly different: readonly string[];
  /** How many of each there are in all. */
  readonly missingCount: number;
  readonly extraCount: number;
  readonly differentCount: number;
  /** Lines that are not a valid mirror line: 1-based line number, byte offset, and why (at most 100). */
  readonly badLines: readonly { readonly lineNumber: number; readonly offset: number; readonly reason: string }[];
  readonly badLineCount: number;
  /** Lines whose seq is not above the line before (the file must be one increasing sequence). */
  readonly outOfOrder: number;
  /** Bytes after the last newline (a torn last line), if any. */
  readonly tornTail: { readonly offset: number; readonly bytes: number } | null;
  /** Fragments moved to `layers/<layer>.jsonl.quarantine` so far (torn lines cut off on open or append). */
  readonly quarantined: number;
  /** The layer's index `layers/<layer>.idx`. */
  readonly index: { readonly ok: boolean; readonly entries: number; readonly coveredBytes: number; readonly problem?: string };
}

/** What the engine found; the store adds `ok`, the engine's name and the location. */
export interface EngineVerifyReport {
  readonly records: number;
  readonly problems: readonly VerifyProblem[];
  /** One per mirrored layer (SQLite with its JSONL mirror); empty otherwise. */
  readonly layers: readonly LayerVerifyReport[];
}

/** What store.verify() resolves with. */
export interface VerifyReport extends EngineVerifyReport {
  /** True when no problem was found. */
  readonly ok: boolean;
  readonly engine: 'sqlite' | 'postgres';
  readonly location: string;
}

/** What store.repair() resolves with: what it did, then a fresh verify(). */
export interface RepairReport {
  readonly actions: readonly string[];
  readonly after: VerifyReport;
}

/** verify()'s words for kept versions that belong to no record (problem kind 'history'), the same on every engine. */
export function strayVersionsMessage(count: number): string {
  return `${count} kept version(s) in the history belong to no record (it is gone, or not newer than the version): repair deletes them`;
}
