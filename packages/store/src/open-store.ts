import { loadPostgresEngine } from './engine/postgres/postgres-engine-loader.js';
import { SqliteEngine } from './engine/sqlite/sqlite-engine.js';
import { Store } from './store.js';
import { resolveStoreOptions, type StoreOptions } from './store-options.js';

/**
 * Opens (creating if needed) the store in `options.dir`, or in `options.schema` of the PostgreSQL
 * database at `options.url`. Safe when many processes open a new store at the same moment: the
 * schema is created once, under the store's write lock. Every option is checked first: a bad one
 * throws StoreValidationError naming it, and nothing is created. A PostgreSQL server that cannot
 * be used (unreachable, credentials or database refused) gives StoreConnectionError; without the
 * optional package `pg` installed, a store on PostgreSQL is StoreDependencyError (a store on
 * SQLite never loads it).
 *
 * ```ts
 * const local = await openStore({ dir: './memory' });
 * const shared = await openStore({ url: 'postgres://agent@db.internal:5432/agents', schema: 'memhub' });
 * ```
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const resolved = resolveStoreOptions(options);
  if (resolved.postgres !== undefined) {
    const PostgresEngine = await loadPostgresEngine();
    const engine = await PostgresEngine.open(resolved.postgres, resolved);
    return new Store(engine, 'postgres', resolved);
  }
  const engine = await SqliteEngine.open(resolved);
  return new Store(engine, 'sqlite', resolved);
}
