import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
// The type of what the global setup provides (inject('postgres')) is declared there.
import type {} from './postgres-global-setup.js';

/** What the global setup found: the test server's URL, and whether it answers. */
export const postgres = inject('postgres');

/**
 * A describe() for tests that need the PostgreSQL server: run when it answers; when it does not,
 * skipped (the global setup has said so once), or, with MEMHUB_REQUIRE_POSTGRES=1, one failing
 * test that says why.
 */
export function describePostgres(title: string, body: () => void): void {
  if (postgres.available) {
    describe(title, body);
  } else if (postgres.required) {
    describe(title, () => {
      it('needs the PostgreSQL server (MEMHUB_REQUIRE_POSTGRES=1)', () => {
        expect.fail(`the PostgreSQL server the tests expect cannot be reached: ${postgres.reason}`);
      });
    });
  } else {
    describe.skip(title, body);
  }
}

let adminPool: pg.Pool | undefined;

/** A query on the test server outside memhub, as an operator or another program would run it. */
export async function adminQuery<Row extends pg.QueryResultRow = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<Row[]> {
  adminPool ??= new pg.Pool({ connectionString: postgres.url, max: 3, allowExitOnIdle: true });
  return (await adminPool.query<Row>(text, values)).rows;
}

afterAll(async () => {
  await adminPool?.end();
  adminPool = undefined;
});

/** A schema name no other test uses, in this run or a concurrent one. */
export function freshSchemaName(): string {
  return `memhub_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
