import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server of `pnpm bench:store --engine postgres`: --postgres-url, else MEMHUB_BENCH_POSTGRES_URL, else the local one. */
export const DEFAULT_POSTGRES_URL = process.env['MEMHUB_BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * One PostgreSQL row's store: a fresh schema in the bench's database (its writers create it when
 * they open the store, all at once), counted after the writers close, and dropped at the end.
 */
export class PostgresRowTarget {
  readonly url: string;
  readonly schema: string;

  constructor(url: string, label: string) {
    this.url = url;
    this.schema = `memhub_bench_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(3).toString('hex')}`;
  }

  /** `SELECT count(*) FROM records` of the row's schema, undefined if it cannot be read. */
  async countRecords(): Promise<number | undefined> {
    try {
      const rows = await this.#query<{ n: string }>(`SELECT count(*) AS n FROM "${this.schema}".records`);
      return Number(rows[0]?.n);
    } catch {
      return undefined;
    }
  }

  async drop(): Promise<void> {
    await this.#query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
  }

  async #query<Row extends pg.QueryResultRow>(text: string): Promise<Row[]> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      return (await client.query<Row>(text)).rows;
    } finally {
      await client.end();
    }
  }
}
