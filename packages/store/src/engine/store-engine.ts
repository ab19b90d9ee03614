import type { LockMetricsSnapshot } from '@memhub/lock';
import type { MemoryRecord, RecordVersion } from '../memory-record.js';
import type { ValidRecallQuery } from '../validate-recall.js';
import type { RecallCandidate } from '../recall-ranking.js';
import type { EngineVerifyReport } from '../verify-report.js';
import type { IndexLookup } from '../mirror/layer-index.js';
import type { WriteOperation, WriteResult } from '../write-operation.js';

/**
 * What the store asks of a database engine: SQLite in a local folder (engine/sqlite) or a
 * PostgreSQL server (engine/postgres). Everything above it (validation, the group commit, the
 * recall-count batching, the public API) is written once in store.ts and knows no engine.
 */
export interface StoreEngine {
  /** Where the store lives, for messages: a folder, or a server URL without its password. */
  readonly location: string;

  /**
   * Applies the operations, in order, in one write transaction under the store's write
   * exclusion (SQLite: the flock on memory.db.lock and BEGIN IMMEDIATE; PostgreSQL: a
   * transaction-scoped advisory lock). Calls `afterCommit` synchronously right after the COMMIT,
   * and resolves with one result per operation once the change is durable as the engine promises
   * (and, with a JSONL mirror, mirrored).
   */
  write(operations: readonly WriteOperation[], afterCommit: () => void): Promise<WriteResult[]>;

  get(id: string): Promise<MemoryRecord | undefined>;

  /**
   * Every version of the record with this id, or else with this idempotency key (as stored), at a
   * contextPath within `within` if given: the versions updates replaced, oldest first, then the
   * record as it is. Empty when there is no such record.
   */
  history(target: HistoryTarget): Promise<RecordVersion[]>;

  /**
   * Finds the candidates for the query, at most `query.limit` (pinned first; then best text
   * relevance first with words, newest first without), passes them to `choose`, and resolves
   * with the records of those it returns, in its order, each beside what `choose` returned for
   * it. Candidates carry only what ranking reads, so an engine reads whole records only for the
   * chosen; candidates and records are of one snapshot. `choose` is synchronous and may run more
   * than once (a read retried when the database was busy).
   */
  recall<T extends { readonly seq: number }>(query: ValidRecallQuery, choose: (candidates: readonly RecallCandidate[]) => readonly T[]): Promise<ChosenRecord<T>[]>;

  stats(): Promise<EngineStats>;

  /**
   * Every record, in seq order, read a page at a time (never the whole store in memory, never
   * one long read transaction). Records written meanwhile may or may not be included; none twice.
   */
  records(): AsyncIterable<MemoryRecord>;

  /** Checks the database (and the mirror, where there is one) without changing anything. */
  verify(): Promise<EngineVerifyReport>;

  /** Fixes what verify() would find, from the database's own records; resolves with what it did. */
  repair(): Promise<readonly string[]>;

  /** SQLite with its JSONL mirror: a record's latest line in a layer file, read through the layer's index. */
  lookupInMirror?(layer: string, id: string): Promise<IndexLookup>;

  /** Brings the views that follow the records in batches up to date (SQLite: the search index). */
  flush?(): Promise<void>;

  /** Closes connections, locks and files. The store has written everything it had first. */
  close(): Promise<void>;
}

/** Which record history() reads: see StoreEngine.history. */
/** A record recall chose, beside what the choice said of it (its score, say). */
export interface ChosenRecord<T> {
  readonly chosen: T;
  readonly record: MemoryRecord;
}

export interface HistoryTarget {
  readonly id: string;
  readonly key: string;
  readonly within?: string;
}

/** The engine's part of Store.stats(). */
export interface EngineStats {
  readonly records: number;
  readonly recordsByLayer: Readonly<Record<string, number>>;
  /** The sum of every record's recall count, as written (pending increments not included). */
  readonly recallCountTotal: number;
  /** Bytes of the database on disk (SQLite: memory.db, read with stat; PostgreSQL: its tables). */
  readonly databaseBytes: number;
  /** The store's lock files that this thread has open (SQLite), with their counters and wait/hold times. */
  readonly locks: readonly LockMetricsSnapshot[];
}

/** The per-layer counts every engine reads, summed into the figures of EngineStats. */
export function layerTotals(
  rows: Iterable<{ readonly layer: string; readonly records: number; readonly recall_count_total: number }>,
): Pick<EngineStats, 'records' | 'recordsByLayer' | 'recallCountTotal'> {
  const recordsByLayer: Record<string, number> = {};
  let records = 0;
  let recallCountTotal = 0;
  for (const row of rows) {
    recordsByLayer[row.layer] = row.records;
    records += row.records;
    recallCountTotal += row.recall_count_total;
  }
  return { records, recordsByLayer, recallCountTotal };
}
