import Database from 'better-sqlite3';
import { StoreCompatibilityError } from '../../errors.js';
import { CURRENT_SCHEMA_VERSION, SCHEMA_MIGRATIONS } from './sqlite-schema.js';

/**
 * better-sqlite3 12.8.0 bundles SQLite 3.51.3, the first release without the WAL-reset corruption
 * bug of 3.7.0 to 3.51.2. An older SQLite (a downgraded or rebuilt better-sqlite3) is refused.
 */
export const MINIMUM_SQLITE_VERSION = '3.51.3';

export type Durability = 'normal' | 'full';

/**
 * SQLite's automatic checkpoint runs in the commit that takes the WAL past this many pages, and
 * each one syncs the WAL and the database file. At SQLite's default (1000 pages, 4 MiB), a
 * store written in group commits of tens of records checkpointed every few transactions, and
 * the syncs cost about a third of its throughput; 4096 pages (16 MiB at the default page size)
 * syncs a quarter as often. The WAL is still bounded: past `walCheckpointBytes` the writer
 * truncates it (sqlite-checkpointer.ts).
 */
const WAL_AUTOCHECKPOINT_PAGES = 4096;

/**
 * Opens a connection: SQLite creates the file itself (memhub never opens it with fs: closing any
 * fd on a database file cancels every POSIX lock SQLite holds on it in this process), checks
 * SQLite's version, and sets the per-connection pragmas. journal_mode is not touched here.
 */
export function openSqliteConnection(path: string, durability: Durability, busyTimeoutMs: number): Database.Database {
  const db = new Database(path);
  try {
    const version = String(db.prepare('SELECT sqlite_version()').pluck().get());
    if (compareVersions(version, MINIMUM_SQLITE_VERSION) < 0) {
      throw new StoreCompatibilityError(
        `SQLite ${version} is older than ${MINIMUM_SQLITE_VERSION}, whose WAL-reset bug can corrupt a database written ` +
          'by several processes. Install better-sqlite3 12.8.0 or later.',
      );
    }
    db.pragma(`busy_timeout = ${Math.round(busyTimeoutMs)}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    // synchronous is per connection; in WAL mode NORMAL loses no committed transaction on a
    // process crash, only possibly the last ones on a power loss; FULL syncs the WAL on every commit.
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Brings a new or older database to the current schema. The caller holds the exclusive
 * `memory.db.lock`, so no other memhub process writes meanwhile. WAL is set once, when the
 * database is not in WAL mode yet (a brand-new file), never changed back; then the migrations,
 * `afterMigration` (store settings given on open) and `user_version` (last) are written in one
 * BEGIN IMMEDIATE transaction.
 */
export function migrateSchema(db: Database.Database, afterMigration: () => void = () => {}): void {
  const journalMode = String(db.pragma('journal_mode', { simple: true }));
  if (journalMode !== 'wal') {
    const result = String(db.pragma('journal_mode = WAL', { simple: true }));
    if (result !== 'wal') {
      throw new StoreCompatibilityError(`SQLite refused WAL mode for this database (journal_mode is ${result})`);
    }
  }
  const migrate = db.transaction(() => {
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > CURRENT_SCHEMA_VERSION) {
      throw new StoreCompatibilityError(
        `This store has schema version ${version}, newer than this memhub understands (${CURRENT_SCHEMA_VERSION}). ` +
          'Upgrade memhub to open it.',
      );
    }
    for (let next = version; next < CURRENT_SCHEMA_VERSION; next += 1) db.exec(SCHEMA_MIGRATIONS[next] as string);
    afterMigration();
    if (version < CURRENT_SCHEMA_VERSION) db.pragma(`user_version = ${CURRENT_SCHEMA_VERSION}`);
  });
  migrate.immediate();
}

/**
 * Whether the database is already in WAL mode at the current schema version, read without the
 * write lock: then opening it needs no write at all. A brand-new file, an older schema or a newer
 * one go through migrateSchema() under the lock (which also refuses a newer one).
 */
export function isCurrentSchema(db: Database.Database): boolean {
  return String(db.pragma('journal_mode', { simple: true })) === 'wal' && Number(db.pragma('user_version', { simple: true })) === CURRENT_SCHEMA_VERSION;
}

function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let index = 0; index < Math.max(left.length, right.length); index += 1) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
