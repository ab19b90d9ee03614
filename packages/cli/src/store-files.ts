import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The lock file of a store's write transactions, in its folder. */
export const WRITE_LOCK_FILE = 'memory.db.lock';
/** Held shared by every process that has the store open; `memhub rebuild` takes it exclusively. */
export const PRESENCE_LOCK_FILE = 'memory.db.presence.lock';
/** Held by the one process that commits the others' writes (the write leader). */
export const LEADER_LOCK_FILE = 'memory.db.leader.lock';
/** Held by whoever brings the search index (memory.search.db) up to date. */
export const SEARCH_LOCK_FILE = 'memory.search.db.lock';
export const LAYERS_FOLDER = 'layers';

/** A layer's files in `layers/`, as found on disk. */
export interface LayerFiles {
  readonly layer: string;
  /** Bytes of `layers/<layer>.jsonl` (0 when missing). */
  readonly mirrorBytes: number;
  /** Bytes of `layers/<layer>.idx` (0 when missing). */
  readonly indexBytes: number;
  /** `layers/<layer>.jsonl.lock`, if it exists. */
  readonly lockFile: string | undefined;
}

const LAYER_FILE = /^([a-z0-9][a-z0-9_-]{0,63})\.(jsonl|idx|jsonl\.lock)$/;

/**
 * The layers that have files in the store's `layers/` folder, by name, with their sizes. Sizes
 * come from stat: no descriptor is opened on anything in the store (DESIGN rule 1 asks it only
 * for the database files, but a stat is all a size needs).
 */
export function layerFiles(dir: string): LayerFiles[] {
  const folder = join(dir, LAYERS_FOLDER);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const layers = new Map<string, { mirrorBytes: number; indexBytes: number; lockFile: string | undefined }>();
  for (const name of names) {
    const match = LAYER_FILE.exec(name);
    if (match === null) continue;
    const [, layer, kind] = match as unknown as [string, string, string];
    const entry = layers.get(layer) ?? { mirrorBytes: 0, indexBytes: 0, lockFile: undefined };
    const path = join(folder, name);
    if (kind === 'jsonl') entry.mirrorBytes = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    else if (kind === 'idx') entry.indexBytes = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    else entry.lockFile = path;
    layers.set(layer, entry);
  }
  return [...layers].sort(([a], [b]) => a.localeCompare(b)).map(([layer, entry]) => ({ layer, ...entry }));
}
