import { SqliteEngine } from './engine/sqlite/sqlite-engine.js';
import { Store } from './store.js';
import { resolveStoreOptions, type StoreOptions } from './store-options.js';

/**
 * Opens (creating if needed) the store in `options.dir`. Safe when many processes open a new
 * store at the same moment: the schema is created once, under the store's write lock. Every
 * option is checked first: a bad one throws StoreValidationError naming it, and nothing is
 * created.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const resolved = resolveStoreOptions(options);
  const engine = await SqliteEngine.open(resolved);
  return new Store(engine, 'sqlite', resolved);
}
