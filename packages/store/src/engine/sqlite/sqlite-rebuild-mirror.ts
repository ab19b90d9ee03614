import type Database from 'better-sqlite3';
import { LayerMirror } from '../../mirror/layer-mirror.js';
import { silentLogger } from '../../store-logger.js';
import { SqliteMirrorSource } from './sqlite-mirror-source.js';
import { SqliteStatements } from './sqlite-statements.js';

/**
 * In the rebuilt database, inside its last replay transaction: every layer's journal counts as
 * pruned through the new last seq (it is: the new database has no journal rows). A layer file
 * that ends before that seq is then rebuilt from the database by the next catch-up, so a rebuild
 * killed while it rewrote a file (rewriteLayerFiles) leaves nothing half-written behind for long:
 * openStore finishes the job.
 */
export function markLayersPrunedThrough(db: Database.Database, layers: readonly string[], lastSeq: number): void {
  const mark = db.prepare(
    'INSERT INTO mirror_layers (layer, pruned_through) VALUES (?, ?) ON CONFLICT (layer) DO UPDATE SET pruned_through = excluded.pruned_through',
  );
  for (const layer of layers) mark.run(layer, lastSeq);
}

/**
 * After the rebuilt database is finished: rewrites each layer file from it, in place, as
 * LayerMirror.rebuild does for a repair (the layer's records as `remember` lines, then a
 * `snapshot` line at the last seq) and rebuilds its index, each under the layer's writer lock. The
 * files then agree with the database line for line (openStore's catch-up and verify() find
 * nothing to do), whatever lines the rebuild skipped (those are in the quarantine files by now).
 */
export async function rewriteLayerFiles(
  db: Database.Database,
  layersFolder: string,
  layers: readonly string[],
  options: { readonly syncAppends: boolean; readonly lockTimeoutMs: number },
): Promise<void> {
  const source = new SqliteMirrorSource(db, new SqliteStatements(db));
  // In name order, so that what a rebuild killed halfway leaves does not depend on the directory's order.
  for (const layer of [...layers].sort()) {
    const mirror = new LayerMirror({
      folder: layersFolder,
      layer,
      syncAppends: options.syncAppends,
      lockTimeoutMs: options.lockTimeoutMs,
      allowUnsafeFilesystem: false,
      logger: silentLogger,
    });
    try {
      await mirror.locked('memhub rebuild from mirror: rewrite the layer file', () => mirror.rebuild(source));
    } finally {
      mirror.close();
    }
  }
}
