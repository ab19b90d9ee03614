import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import { StoreCompatibilityError } from '../../errors.js';
import type { MemoryRecord, RecordVersion } from '../../memory-record.js';
import type { StoreLogger } from '../../store-logger.js';
import type { ValidRecallQuery } from '../../validate-recall.js';
import type { RecallCandidate } from '../../recall-ranking.js';
import type { EngineVerifyReport } from '../../verify-report.js';
import { isWithin, type WriteOperation, type WriteResult } from '../../write-operation.js';
import { PageSizer } from '../../page-sizer.js';
import { layerTotals, type ChosenRecord, type EngineStats, type HistoryTarget, type StoreEngine } from '../store-engine.js';
import { asConnectionError, isLockTimeout } from './postgres-errors.js';
import type { ResolvedPostgresOptions } from './postgres-options.js';
import { createPool } from './postgres-pool.js';
import { findRecords } from './postgres-recall.js';
import { recordFromRow, versionFromRow } from './postgres-record.js';
import { MINIMUM_SERVER_VERSION, migrateSchema, textSearchConfiguration } from './postgres-schema.js';
import { RECORD_COLUMNS, type PostgresTables } from './postgres-tables.js';
import { storableId, toStoredText } from './postgres-text.js';
import { checkDatabase, rebuildDerivedData } from './postgres-verify.js';
import { beginWriteSql, lockTimeoutError, writeLockKey } from './postgres-write-lock.js';
import { PostgresWriter } from './postgres-writer.js';

/** What the PostgreSQL engine takes from the store's options besides its server and schema. */
export interface PostgresEngineSettings {
  /** How long a write waits for the store's advisory lock before LockTimeoutError. */
  readonly lockTimeoutMs: number;
  readonly logger: StoreLogger;
}

/** The PostgreSQL engine's part of stats(). */
export interface PostgresEngineStats extends EngineStats {
  /** Write transactions this store object has committed (one per group-commit batch). */
  readonly writeTransactions: number;
}

/**
 * The server engine: the store's tables in one schema of a PostgreSQL database, reached through a
 * pool of connections, Kysely's PostgreSQL dialect over the `pg` driver. Every write runs in a
 * transaction under the schema's advisory lock (postgres-writer.ts), so any number of processes on
 * any number of hosts share the store as processes on one host share a SQLite store.
 */
export class PostgresEngine implements StoreEngine {
  readonly location: string;
  readonly #options: ResolvedPostgresOptions;
  readonly #db: Kysely<PostgresTables>;
  readonly #writer: PostgresWriter;

  private constructor(pool: pg.Pool, options: ResolvedPostgresOptions, settings: PostgresEngineSettings) {
    this.location = options.location;
    this.#options = options;
    this.#db = new Kysely<PostgresTables>({ dialect: new PostgresDialect({ pool }) }).withSchema(options.schema);
    this.#writer = new PostgresWriter(pool, this.#db, options, settings.lockTimeoutMs);
  }

  /**
   * Connects (failing with StoreConnectionError, never hanging, when the server cannot be used),
   * checks the server's version, and creates or migrates the schema under the write lock. Safe
   * when many processes on many hosts open a new store at the same moment.
   */
  static async open(options: ResolvedPostgresOptions, settings: PostgresEngineSettings): Promise<PostgresEngine> {
    const pool = createPool(options, settings.lockTimeoutMs, settings.logger);
    try {
      const client = await pool.connect();
      try {
        const server = await client.query<{ version: string; number: string }>(
          `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS number`,
        );
        const { version, number } = server.rows[0] as { version: string; number: string };
        if (Number(number) < MINIMUM_SERVER_VERSION) {
          throw new StoreCompatibilityError(`PostgreSQL ${version} at ${options.host} is older than memhub needs (13 or later)`);
        }
        const key = writeLockKey(options.schema);
        const started = performance.now();
        try {
          await migrateSchema(client, options.schema, beginWriteSql(key, settings.lockTimeoutMs, options.statementTimeoutMs));
        } catch (error) {
          if (isLockTimeout(error)) throw await lockTimeoutError(client, options.location, key, performance.now() - started);
          throw error;
        }
      } finally {
        client.release();
      }
      return new PostgresEngine(pool, options, settings);
    } catch (error) {
      await pool.end().catch(() => {});
      throw asConnectionError(error, options.host, options.connectTimeoutMs) ?? error;
    }
  }

  write(operations: readonly WriteOperation[], afterCommit: () => void): Promise<WriteResult[]> {
    return this.#writer.write(operations, afterCommit);
  }

  async get(id: string): Promise<MemoryRecord | undefined> {
    if (!storableId(id)) return undefined;
    const row = await this.#read(() => this.#db.selectFrom('records').select(RECORD_COLUMNS).where('id', '=', id).executeTakeFirst());
    return row === undefined ? undefined : recordFromRow(row);
  }

  async history(target: HistoryTarget): Promise<RecordVersion[]> {
    const storedKey = toStoredText(target.key);
    // One snapshot (REPEATABLE READ) for the record and its versions: an update committed between
    // two reads would otherwise show the replaced version twice.
    return this.#read(() =>
      this.#db
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          const candidates = await trx
            .selectFrom('records')
            .select(RECORD_COLUMNS)
            .where((eb) => (storableId(target.id) ? eb.or([eb('id', '=', target.id), eb('idempotency_key', '=', storedKey)]) : eb('idempotency_key', '=', storedKey)))
            .execute();
          const row =
            candidates.find((candidate) => candidate.id === target.id && isWithin(candidate.context_path, target.within)) ??
            candidates.find((candidate) => candidate.idempotency_key === storedKey && isWithin(candidate.context_path, target.within));
          if (row === undefined) return [];
          const versions = await trx
            .selectFrom('record_versions')
            .select(['seq', 'id', 'layer', 'content', 'tags', 'context_path', 'metadata', 'written_at as at'])
            .where('id', '=', row.id)
            .orderBy('seq')
            .execute();
          return [...versions, { ...row, at: row.updated_at ?? row.created_at }].map(versionFromRow);
        }),
    );
  }

  /** One query reads the candidates' whole records (ts_rank reads each match's row anyway); `choose` picks among them. */
  async recall<T extends { readonly seq: number }>(query: ValidRecallQuery, choose: (candidates: readonly RecallCandidate[]) => readonly T[]): Promise<ChosenRecord<T>[]> {
    const rows = await this.#read(() => findRecords(this.#db, query, textSearchConfiguration(this.#options.schema)));
    const records = new Map(
      rows.map((row) => {
        const record = recordFromRow(row);
        return [record.seq, { record, relevance: row.rank === undefined ? undefined : Number(row.rank) }];
      }),
    );
    const candidates = [...records.values()].map(({ record, relevance }) => ({
      seq: record.seq,
      pinned: record.pinned === true,
      writtenAt: Date.parse(record.updatedAt ?? record.createdAt),
      recallCount: record.recallCount,
      relevance,
    }));
    return choose(candidates).map((chosen) => ({ chosen, record: (records.get(chosen.seq) as { record: MemoryRecord }).record }));
  }

  async stats(): Promise<PostgresEngineStats> {
    const { layers, bytes } = await this.#read(async () => ({
      layers: await this.#db
        .selectFrom('records')
        .select([
          'layer',
          sql<number>`count(*)::bigint`.as('records'),
          sql<number>`coalesce(sum(recall_count), 0)::bigint`.as('recall_count_total'),
        ])
        .groupBy('layer')
        .orderBy('layer')
        .execute(),
      bytes: await sql<{ bytes: number }>`
        SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ${this.#options.schema} AND c.relkind = 'r'`.execute(this.#db),
    }));
    return {
      ...layerTotals(layers),
      databaseBytes: bytes.rows[0]?.bytes ?? 0,
      locks: [],
      writeTransactions: this.#writer.transactions,
    };
  }

  /** Every record in seq order, a page at a time (one short query each, sized by PageSizer). */
  async *records(): AsyncIterable<MemoryRecord> {
    const pages = new PageSizer();
    let after = 0;
    for (;;) {
      const limit = pages.size;
      const page = await this.#read(() =>
        this.#db.selectFrom('records').select(RECORD_COLUMNS).where('seq', '>', after).orderBy('seq').limit(limit).execute(),
      );
      pages.measured(page.length, page.reduce((chars, row) => chars + row.content.length, 0));
      for (const row of page) yield recordFromRow(row);
      if (page.length < limit) return;
      after = (page[page.length - 1] as (typeof page)[number]).seq;
    }
  }

  async verify(): Promise<EngineVerifyReport> {
    const problems = await this.#read(() => checkDatabase(this.#db, this.#options.schema));
    const { records } = await this.stats();
    return { records, problems, layers: [] };
  }

  async repair(): Promise<readonly string[]> {
    return this.#writer.underWriteLock(async (client) => ({
      value: await rebuildDerivedData(client, this.#options.schema),
      lastSeq: undefined,
    }));
  }

  /** Closes every connection of the pool. */
  async close(): Promise<void> {
    await this.#db.destroy();
  }

  /** Runs a read; a connection failure becomes StoreConnectionError. */
  async #read<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw asConnectionError(error, this.#options.host, this.#options.connectTimeoutMs) ?? error;
    }
  }
}
