import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../../src/index.js';

/**
 * Puts another store's database in place of `dir`'s memory.db, as a restore from a backup would
 * while the store is open elsewhere: memory.db alone (its WAL and shared memory removed first),
 * the lock files left as they are. The other store holds one record, `content`, and no mirror.
 */
export async function restoreAnotherDatabase(dir: string, content: string): Promise<void> {
  const other = mkdtempSync(join(tmpdir(), 'memhub-restored-'));
  try {
    const elsewhere = await openStore({ dir: other, mirror: false });
    await elsewhere.remember({ content });
    await elsewhere.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `memory.db${suffix}`), { force: true });
    const copy = new Database(join(other, 'memory.db'));
    try {
      copy.exec(`VACUUM INTO '${join(dir, 'memory.db').replaceAll("'", "''")}'`);
    } finally {
      copy.close();
    }
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
}
