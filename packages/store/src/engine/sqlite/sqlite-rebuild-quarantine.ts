import { quarantine } from '../../mirror/quarantine.js';
import type { LayerFileReader } from './sqlite-rebuild-file.js';
import type { RebuildStaging } from './sqlite-rebuild-staging.js';

/** Skipped lines read from the file per page of rows. */
const PAGE = 1_000;
/** A skipped line longer than this (one not held in memory when it was read) is kept in pieces of this size. */
const PIECE_BYTES = 8 * 1024 * 1024;

/**
 * Copies every line the rebuild skipped in one layer file to the layer's quarantine file
 * (`<layer>.jsonl.quarantine`: one JSON line each, with its offset, its bytes and why), before
 * the layer file is rewritten from the new database: nothing is thrown away unseen. The layer
 * file itself is not changed here. Returns how many lines it quarantined.
 */
export function quarantineSkippedLines(staging: RebuildStaging, layer: string, file: LayerFileReader): number {
  let lines = 0;
  for (let afterLine = 0; ; ) {
    const page = staging.skippedPage(layer, afterLine, PAGE);
    for (const row of page) {
      const reason = `rebuildFromMirror skipped line ${row.line_number} (${row.kind}): ${row.reason}`;
      if (row.length <= PIECE_BYTES) {
        quarantine(file.path, row.offset, file.read(row.offset, row.length), reason);
      } else {
        for (let from = 0; from < row.length; from += PIECE_BYTES) {
          const piece = file.read(row.offset + from, Math.min(PIECE_BYTES, row.length - from));
          quarantine(file.path, row.offset + from, piece, `${reason} [bytes ${from} to ${from + piece.length} of ${row.length}]`);
        }
      }
      lines += 1;
    }
    if (page.length < PAGE) break;
    afterLine = (page[page.length - 1] as (typeof page)[number]).line_number;
  }
  return lines;
}
