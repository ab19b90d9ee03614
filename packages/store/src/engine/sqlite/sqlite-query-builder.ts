import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import type { StoreTables } from './sqlite-tables.js';

/**
 * Kysely builds the engine's SQL from the typed schema; better-sqlite3 runs it. Kysely's SQLite
 * dialect cannot open BEGIN IMMEDIATE transactions and executes asynchronously, so it is used to
 * compile only (its documented "build queries only" setup with a DummyDriver): execution stays
 * synchronous, inside the write lock.
 */
export const queryBuilder = new Kysely<StoreTables>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});
