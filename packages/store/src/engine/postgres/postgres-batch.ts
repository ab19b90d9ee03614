import { newRecordId } from '../../record-id.js';
import { sql, type Compilable, type Kysely } from 'kysely';
import type pg from 'pg';
import type { MemoryRecord, RememberedRecord, UpdateOutcome } from '../../memory-record.js';
import type { ValidArchiveSelector } from '../../validate-archive.js';
import type { ValidRecordInput } from '../../validate-record.js';
import { isWithin, type MaintainBatch, type WriteOperation, type WriteResult } from '../../write-operation.js';
import { describePolicy, type MaintainChange } from '../../lifecycle-policy.js';
import { recordFromRow } from './postgres-record.js';
import { RECORD_COLUMNS, type NewRecordRow, type PostgresTables } from './postgres-tables.js';
import { storableId, toStoredText } from './postgres-text.js';
import { millisecondBound } from './postgres-time.js';

/** Rows per INSERT statement: 10 parameters a row stays far below the protocol's 65535. */
const INSERT_CHUNK_ROWS = 1_000;

type InsertOperation = Extract<WriteOperation, { kind: 'remember' | 'import' }>;
type OtherOperation = Exclude<WriteOperation, InsertOperation>;

/**
 * Applies a batch of write operations inside a write transaction that the engine has opened and
 * locked (postgres-engine.ts), in order, with as few round trips to the server as the order
 * allows: each run of remember and import operations is one lookup of the keys and ids it
 * names, then one INSERT per thousand rows; each other operation is one statement.
 *
 * Seqs are handed out here, from the counter read under the write lock, so they increase in
 * commit order; `lastSeq` is what the caller writes back to the counter before COMMIT.
 */
export class PostgresBatch {
  readonly #client: pg.ClientBase;
  readonly #db: Kysely<PostgresTables>;
  #lastSeq: number;

  constructor(client: pg.ClientBase, db: Kysely<PostgresTables>, lastSeq: number) {
    this.#client = client;
    this.#db = db;
    this.#lastSeq = lastSeq;
  }

  /** The highest seq handed out so far (the counter's value before the batch, if none). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  async apply(operations: readonly WriteOperation[]): Promise<WriteResult[]> {
    let results: WriteResult[] = [];
    let run: InsertOperation[] = [];
    for (const operation of operations) {
      if (operation.kind === 'remember' || operation.kind === 'import') {
        run.push(operation);
        continue;
      }
      // concat, not push(...): a run can hold more results than a call takes arguments.
      if (run.length > 0) results = results.concat(await this.#insertRun(run));
      run = [];
      results.push(await this.#applyOther(operation));
    }
    if (run.length > 0) results = results.concat(await this.#insertRun(run));
    return results;
  }

  /**
   * Remembers and imports, in order. A remember whose key is in the store (or earlier in the run)
   * gets that record; an import whose id or key is taken is skipped (null). Everything else is
   * inserted, and its record built from what was written rather than read back.
   */
  async #insertRun(run: readonly InsertOperation[]): Promise<WriteResult[]> {
    const byKey = new Map<string, MemoryRecord>();
    const takenIds = new Set<string>();
    await this.#findExisting(run, byKey, takenIds);
    const rows: NewRecordRow[] = [];
    const results = run.map((operation): WriteResult => {
      const input = operation.kind === 'remember' ? operation.input : operation.record;
      const storedKey = input.key === null ? null : toStoredText(input.key);
      if (operation.kind === 'remember') {
        const existing = storedKey === null ? undefined : byKey.get(storedKey);
        if (existing !== undefined) return { ...existing, created: false };
        return this.#add(rows, input, storedKey, byKey, newRecordId(), Date.now(), 0, null);
      }
      const { record } = operation;
      if (takenIds.has(record.id) || (storedKey !== null && byKey.has(storedKey))) return null;
      takenIds.add(record.id);
      return this.#add(rows, record, storedKey, byKey, record.id, Math.trunc(record.createdAt), record.recallCount, record.updatedAt === null ? null : Math.trunc(record.updatedAt));
    });
    for (let offset = 0; offset < rows.length; offset += INSERT_CHUNK_ROWS) {
      await this.#run(this.#db.insertInto('records').values(rows.slice(offset, offset + INSERT_CHUNK_ROWS)));
    }
    return results;
  }

  /** One query for the records that hold any key or id the run names. */
  async #findExisting(run: readonly InsertOperation[], byKey: Map<string, MemoryRecord>, takenIds: Set<string>): Promise<void> {
    const keys = new Set<string>();
    const ids = new Set<string>();
    for (const operation of run) {
      const input = operation.kind === 'remember' ? operation.input : operation.record;
      if (input.key !== null) keys.add(toStoredText(input.key));
      if (operation.kind === 'import') ids.add(operation.record.id);
    }
    if (keys.size === 0 && ids.size === 0) return;
    const query = this.#db
      .selectFrom('records')
      .select(RECORD_COLUMNS)
      .where((eb) =>
        eb.or([
          eb('idempotency_key', '=', eb.fn.any(sql.val([...keys]))),
          eb('id', '=', eb.fn.any(sql.val([...ids]))),
        ]),
      );
    for (const row of await this.#run(query)) {
      if (row.idempotency_key !== null) byKey.set(row.idempotency_key, recordFromRow(row));
      takenIds.add(row.id);
    }
  }

  #add(
    rows: NewRecordRow[],
    input: ValidRecordInput,
    storedKey: string | null,
    byKey: Map<string, MemoryRecord>,
    id: string,
    createdAt: number,
    recallCount: number,
    updatedAt: number | null,
  ): RememberedRecord {
    this.#lastSeq += 1;
    rows.push({
      seq: this.#lastSeq,
      id,
      layer: input.layer,
      content: toStoredText(input.content),
      tags: [...input.tags],
      context_path: input.contextPath,
      metadata: input.metadataJson,
      idempotency_key: storedKey,
      created_at: createdAt,
      recall_count: recallCount,
      updated_at: updatedAt,
      pinned: input.pinned,
      expires_at: input.expiresAt,
    });
    const record: RememberedRecord = {
      id,
      seq: this.#lastSeq,
      content: input.content,
      tags: [...input.tags],
      contextPath: input.contextPath,
      layer: input.layer,
      createdAt: new Date(createdAt).toISOString(),
      recallCount,
      metadata: JSON.parse(input.metadataJson) as Record<string, unknown>,
      key: input.key,
      ...(updatedAt === null ? {} : { updatedAt: new Date(updatedAt).toISOString() }),
      ...(input.pinned ? { pinned: true as const } : {}),
      ...(input.expiresAt === null ? {} : { expiresAt: new Date(input.expiresAt).toISOString() }),
      created: true,
    };
    if (storedKey !== null) byKey.set(storedKey, record);
    return record;
  }

  async #applyOther(operation: OtherOperation): Promise<WriteResult> {
    switch (operation.kind) {
      case 'forget':
        return this.#forget(operation.id, operation.within);
      case 'update':
        return this.#update(operation);
      case 'maintain':
        return this.#maintain(operation);
      case 'archive':
        return this.#archive(operation.selector);
      case 'restore': {
        const ids = operation.ids.filter(storableId);
        if (ids.length === 0) return 0;
        return this.#count(
          this.#db.updateTable('records').set({ layer: 'application' }).where('layer', '=', 'archive').where('id', '=', (eb) => eb.fn.any(sql.val(ids))),
        );
      }
      case 'add-recall-counts':
        await this.#addRecallCounts(operation.increments);
        return undefined;
    }
  }

  /** Deletes the record (in the scope) and the versions updates kept of it: a forgotten memory leaves no history behind. */
  async #forget(id: string, within: string | undefined): Promise<boolean> {
    if (!storableId(id)) return false;
    const [row] = await this.#run(this.#db.selectFrom('records').select('context_path').where('id', '=', id));
    if (row === undefined || !isWithin(row.context_path, within)) return false;
    await this.#run(this.#db.deleteFrom('records').where('id', '=', id));
    await this.#run(this.#db.deleteFrom('record_versions').where('id', '=', id));
    return true;
  }

  /**
   * A new version of the record found by id (or else by key) in the scope, under a new seq; the
   * version it replaces goes to record_versions. With `ifSeq`, nothing is written unless the
   * record is still at that seq. The write lock is held: nobody changes the row in between.
   */
  async #update(operation: Extract<WriteOperation, { kind: 'update' }>): Promise<UpdateOutcome> {
    const storedKey = toStoredText(operation.key);
    const candidates = await this.#run(
      this.#db
        .selectFrom('records')
        .select(RECORD_COLUMNS)
        .where((eb) => (storableId(operation.target) ? eb.or([eb('id', '=', operation.target), eb('idempotency_key', '=', storedKey)]) : eb('idempotency_key', '=', storedKey))),
    );
    const row =
      candidates.find((candidate) => candidate.id === operation.target && isWithin(candidate.context_path, operation.within)) ??
      candidates.find((candidate) => candidate.idempotency_key === storedKey && isWithin(candidate.context_path, operation.within));
    if (row === undefined) return { outcome: 'missing' };
    if (operation.ifSeq !== undefined && row.seq !== operation.ifSeq) return { outcome: 'conflict', id: row.id, currentSeq: row.seq };
    this.#lastSeq += 1;
    const { changes } = operation;
    await this.#run(
      this.#db
        .insertInto('record_versions')
        .columns(['seq', 'id', 'layer', 'content', 'tags', 'context_path', 'metadata', 'written_at'])
        .expression((eb) =>
          eb
            .selectFrom('records')
            .select(['seq', 'id', 'layer', 'content', 'tags', 'context_path', 'metadata', sql<number>`coalesce(updated_at, created_at)`.as('written_at')])
            .where('id', '=', row.id),
        ),
    );
    const [updated] = await this.#run(
      this.#db
        .updateTable('records')
        .set({
          seq: this.#lastSeq,
          updated_at: operation.at,
          ...(changes.content === undefined ? {} : { content: toStoredText(changes.content) }),
          ...(changes.tags === undefined ? {} : { tags: [...changes.tags] }),
          ...(changes.contextPath === undefined ? {} : { context_path: changes.contextPath }),
          ...(changes.metadataJson === undefined ? {} : { metadata: changes.metadataJson }),
          ...(changes.layer === undefined ? {} : { layer: changes.layer }),
          ...(changes.pinned === undefined ? {} : { pinned: changes.pinned }),
          ...(changes.expiresAt === undefined ? {} : { expires_at: changes.expiresAt }),
        })
        .where('id', '=', row.id)
        .returning(RECORD_COLUMNS),
    );
    return { outcome: 'updated', record: recordFromRow(updated as (typeof candidates)[number]) };
  }

  /**
   * One batch of maintain() (see SqliteWriter's): expired records archived or forgotten, then, in
   * what is left of the batch, `application` records that meet the policy and are not pinned
   * archived; both queries carry the scope, so that a full batch always makes progress.
   */
  async #maintain(operation: Extract<WriteOperation, { kind: 'maintain' }>): Promise<MaintainBatch> {
    const { within } = operation;
    const changes: MaintainChange[] = [];
    let expiredQuery = this.#db
      .selectFrom('records')
      .select(['id', 'expires_at'])
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', operation.now);
    if (operation.expired === 'archive') expiredQuery = expiredQuery.where('layer', '<>', 'archive');
    if (within !== undefined && within !== '/') {
      expiredQuery = expiredQuery.where((eb) => eb.or([eb('context_path', '=', within), eb.and([eb('context_path', '>=', `${within}/`), eb('context_path', '<', `${within}0`)])]));
    }
    const expired = await this.#run(expiredQuery.orderBy('expires_at').limit(operation.limit));
    const expiredIds = expired.map((record) => record.id);
    if (expiredIds.length > 0) {
      if (operation.expired === 'forget') {
        await this.#run(this.#db.deleteFrom('records').where('id', '=', (eb) => eb.fn.any(sql.val(expiredIds))));
        await this.#run(this.#db.deleteFrom('record_versions').where('id', '=', (eb) => eb.fn.any(sql.val(expiredIds))));
      } else {
        await this.#run(this.#db.updateTable('records').set({ layer: 'archive' }).where('id', '=', (eb) => eb.fn.any(sql.val(expiredIds))));
      }
    }
    for (const record of expired) {
      changes.push({ id: record.id, action: operation.expired, reason: 'expired', detail: `expired at ${new Date(record.expires_at as number).toISOString()}` });
    }
    let full = expired.length >= operation.limit;
    const { policy } = operation;
    if (policy !== undefined && !full) {
      const left = operation.limit - expired.length;
      let query = this.#db
        .selectFrom('records')
        .select('id')
        .where('layer', '=', 'application')
        .where('pinned', '=', false)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', operation.now)]));
      if (policy.olderThanMs !== undefined) query = query.where(sql<number>`coalesce(updated_at, created_at)`, '<', operation.now - policy.olderThanMs);
      if (policy.recallCountBelow !== undefined) query = query.where('recall_count', '<', policy.recallCountBelow);
      if (policy.notRecalledSinceMs !== undefined) query = query.where(sql<number>`coalesce(last_recalled_at, updated_at, created_at)`, '<', operation.now - policy.notRecalledSinceMs);
      if (within !== undefined && within !== '/') {
        query = query.where((eb) => eb.or([eb('context_path', '=', within), eb.and([eb('context_path', '>=', `${within}/`), eb('context_path', '<', `${within}0`)])]));
      }
      const matching = await this.#run(query.orderBy('seq').limit(left));
      if (matching.length > 0) {
        await this.#run(this.#db.updateTable('records').set({ layer: 'archive' }).where('id', '=', (eb) => eb.fn.any(sql.val(matching.map((record) => record.id)))));
      }
      const detail = describePolicy(policy);
      for (const record of matching) changes.push({ id: record.id, action: 'archive', reason: 'policy', detail });
      full = matching.length >= left;
    }
    return { changes, more: full };
  }

  /** `application -> archive` only: records in other layers stay where they are. */
  async #archive(selector: ValidArchiveSelector): Promise<number> {
    let archive = this.#db.updateTable('records').set({ layer: 'archive' }).where('layer', '=', 'application');
    const within = 'within' in selector ? selector.within : undefined;
    if (within !== undefined) {
      // A scope's records only: the path itself, or the range of paths below it.
      archive = archive.where((eb) =>
        eb.or([eb('context_path', '=', within), eb.and([eb('context_path', '>=', `${within}/`), eb('context_path', '<', `${within}0`)])]),
      );
    }
    if ('ids' in selector) {
      const ids = selector.ids.filter(storableId);
      if (ids.length === 0) return 0;
      return this.#count(archive.where('id', '=', (eb) => eb.fn.any(sql.val(ids))));
    }
    if ('createdBefore' in selector) return this.#count(archive.where('created_at', '<', millisecondBound(selector.createdBefore)));
    return this.#count(archive.where('recall_count', '<', selector.recallCountBelow));
  }

  /** Commutative increments (`recall_count + n`), all in one statement: processes never overwrite each other's counts. */
  async #addRecallCounts(increments: ReadonlyMap<number, number>): Promise<void> {
    if (increments.size === 0) return;
    const seqs = [...increments.keys()];
    const counts = seqs.map((seq) => increments.get(seq) as number);
    await this.#run(
      this.#db
        .updateTable('records')
        .from(sql<{ seq: number; n: number }>`unnest(${sql.val(seqs)}::bigint[], ${sql.val(counts)}::bigint[])`.as<'increment'>(sql`increment(seq, n)`))
        .set((eb) => ({ recall_count: eb('records.recall_count', '+', eb.ref('increment.n')), last_recalled_at: Date.now() }))
        .whereRef('records.seq', '=', 'increment.seq'),
    );
  }

  async #run<Row>(query: Compilable<Row>): Promise<Row[]> {
    const compiled = query.compile();
    const result = await this.#client.query(compiled.sql, [...compiled.parameters]);
    return result.rows as Row[];
  }

  async #count(query: Compilable<unknown>): Promise<number> {
    const compiled = query.compile();
    return (await this.#client.query(compiled.sql, [...compiled.parameters])).rowCount ?? 0;
  }
}
