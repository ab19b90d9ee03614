import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { LAYERS_FOLDER } from '../../mirror/jsonl-mirror.js';
import { ndjsonLines, type NdjsonLine } from '../../ndjson-lines.js';
import { withLayerFileReader, type LayerFileReader } from './sqlite-rebuild-file.js';
import { checkRebuildLine, SkippedLine, type RebuildLine } from './sqlite-rebuild-lines.js';
import { markLayersPrunedThrough } from './sqlite-rebuild-mirror.js';
import { quarantineSkippedLines } from './sqlite-rebuild-quarantine.js';
import { writeLayerRecords } from './sqlite-rebuild-records.js';
import { LAYER_EFFECT_OF_OP } from '../../changes/change-codec.js';
import { rebuildLayerReports, type RebuildLayerReport, type SkippedLineCounts } from './sqlite-rebuild-report.js';
import { RebuildStaging, stageEntry, type LinePlace, type StageEntry, type StagedLine } from './sqlite-rebuild-staging.js';

/** Lines staged per transaction, and staged lines replayed per page. */
const STAGE_BATCH = 2_000;

/** What the replay left in the new database, and what it read. */
export interface ReplayResult {
  /** The highest seq of a line that was applied: the store's last seq. */
  readonly lastSeq: number;
  readonly layers: readonly RebuildLayerReport[];
  readonly skippedLines: number;
  readonly skippedByKind: SkippedLineCounts;
}

/**
 * Fills the new database from the layer files, and never fails on what a line holds:
 *
 * 1. each file is read as a stream; every line is checked (checkRebuildLine: the checks of
 *    remember() and more) and staged, by seq, without its record's content; a line that fails is
 *    skipped;
 * 2. each layer is replayed on its own, in seq order (a file out of order is replayed as if it
 *    were in order; for one seq, the first line of the file counts and the others are skipped),
 *    the way verify() replays one file: a remember or move-in of a record the layer holds, or a
 *    forget or move-out of one it does not, is skipped; an update replaces the version the layer
 *    holds, which is kept as an earlier version of the record (record_versions);
 * 3. what the layers' replays say against each other is settled (RebuildStaging.resolveAcrossLayers):
 *    one layer per record, one record per seq and per key;
 * 4. the records left are written, each read again from its line;
 * 5. every skipped line is copied to its layer's quarantine file (before the database is marked
 *    finished: a rebuild killed after this step and run again copies them once more, rather
 *    than a rebuild killed before it losing them when the files are rewritten).
 *
 * The database is not marked finished here, and the layer files are not changed: the caller
 * finishes the database, then rewrites the files from it (rewriteLayerFiles).
 */
export async function replayLayers(db: Database.Database, folder: string, files: readonly string[]): Promise<ReplayResult> {
  const layers = [...files].sort();
  const staging = new RebuildStaging(db);
  const pathOf = (layer: string) => join(folder, LAYERS_FOLDER, `${layer}.jsonl`);
  const read: { layer: string; file: string; lines: number; reordered: number }[] = [];
  for (const layer of layers) {
    read.push({ layer, file: pathOf(layer), ...(await withLayerFileReader(pathOf(layer), (file) => stageLayerFile(staging, layer, file))) });
  }
  for (const layer of layers) replayLayer(staging, layer);
  staging.resolveAcrossLayers();
  for (const layer of layers) await withLayerFileReader(pathOf(layer), (file) => writeLayerRecords(db, staging, layer, file));
  const lastSeq = staging.lastAppliedSeq();
  staging.inTransaction(() => {
    db.prepare('UPDATE store_sequence SET last_seq = max(last_seq, ?) WHERE id = 1').run(lastSeq);
    markLayersPrunedThrough(db, layers, lastSeq);
  });
  // The search index (memory.search.db) follows the new records by itself: this database has a
  // store_id of its own, so the index of the one it replaces is emptied and made again.
  for (const layer of layers) await withLayerFileReader(pathOf(layer), (file) => quarantineSkippedLines(staging, layer, file));
  const report = rebuildLayerReports(staging, read);
  staging.drop();
  return { lastSeq, ...report };
}

/**
 * Step 1 for one file: reads it as a stream, checks each line, and stages it (or notes it as
 * skipped), a transaction per STAGE_BATCH lines. Holds one line and one batch of small entries.
 */
async function stageLayerFile(staging: RebuildStaging, layer: string, file: LayerFileReader): Promise<{ lines: number; reordered: number }> {
  let lines = 0;
  let reordered = 0;
  let highestSeq = 0;
  let batch: ({ readonly entry: StageEntry } | { readonly place: LinePlace; readonly skipped: SkippedLine })[] = [];
  const flush = () => {
    const entries = batch;
    batch = [];
    staging.inTransaction(() => {
      for (const item of entries) {
        if ('entry' in item) staging.stage(item.entry);
        else staging.skip(item.place, item.skipped.kind, item.skipped.reason);
      }
    });
  };
  for await (const raw of ndjsonLines(createReadStream(file.path))) {
    lines += 1;
    const place: LinePlace = { layer, lineNumber: raw.lineNumber, offset: raw.offset, length: raw.length };
    const checked = checkRawLine(raw, layer, file);
    if (checked instanceof SkippedLine) {
      batch.push({ place, skipped: checked });
    } else {
      if (checked.seq < highestSeq) reordered += 1;
      highestSeq = Math.max(highestSeq, checked.seq);
      batch.push({ entry: stageEntry(place, checked) });
    }
    if (batch.length >= STAGE_BATCH) flush();
  }
  flush();
  return { lines, reordered };
}

function checkRawLine(raw: NdjsonLine, layer: string, file: LayerFileReader): RebuildLine | SkippedLine {
  if (!raw.terminated) return new SkippedLine('torn-line', `torn last line: ${raw.length} byte(s) without a newline (a crash while appending)`);
  if (raw.text === undefined) return new SkippedLine('line-too-long', `a line of ${raw.length} bytes, longer than any mirror line`);
  // The stream decoder turns bytes that are not UTF-8 into U+FFFD: such a line is not what memhub wrote.
  if (raw.text.includes('\uFFFD') && !Buffer.from(raw.text, 'utf8').equals(file.read(raw.offset, raw.length))) {
    return new SkippedLine('not-a-mirror-line', 'not valid UTF-8');
  }
  try {
    return checkRebuildLine(raw.text, layer);
  } catch (error) {
    if (error instanceof SkippedLine) return error;
    throw error;
  }
}

/**
 * Step 2 for one layer: its staged lines in seq order (and, for one seq, in file order), applied
 * to the layer's replay (rebuild_live) a page per transaction.
 */
function replayLayer(staging: RebuildStaging, layer: string): void {
  let previous: { readonly seq: number; readonly lineNumber: number } | undefined;
  const apply = (line: StagedLine) => {
    const place: LinePlace = { layer, lineNumber: line.line_number, offset: line.offset, length: line.length };
    if (previous !== undefined && previous.seq === line.seq) {
      staging.skip(place, 'duplicate-seq', `seq ${line.seq} is the seq of line ${previous.lineNumber} too, which comes first in the file`);
      return;
    }
    previous = { seq: line.seq, lineNumber: line.line_number };
    // What each line means to its layer is said once, in the change codec; here it is applied to
    // the staging tables, with the conflicts a hand-edited file can hold on top.
    switch (LAYER_EFFECT_OF_OP[line.op]) {
      case 'enter': {
        const id = line.record_id as string;
        const there = staging.liveLine(layer, id);
        if (there !== undefined && line.op === 'update') staging.replace(layer, line);
        else if (there !== undefined) staging.skip(place, 'duplicate-id', `record ${id} is in this layer already (line ${there})`);
        else staging.enter(layer, line);
        return;
      }
      case 'leave': {
        // A no-op when the layer does not hold the record, as in verify()'s replay (see layerEffectOf).
        const id = line.record_id as string;
        if (staging.liveLine(layer, id) !== undefined) staging.leave(layer, id);
        return;
      }
      case 'raise-counts':
        // Totals of records the layer does not hold are passed over, as verify() does.
        for (const [id, total] of Object.entries(JSON.parse(line.counts as string) as Record<string, number>)) staging.raiseCount(layer, id, total);
        return;
      case 'none':
        // A snapshot: the file is the layer as of this seq.
        staging.confirm(layer, line.seq);
        return;
    }
  };
  for (let after = { seq: 0, lineNumber: 0 }; ; ) {
    const page = staging.stagedPage(layer, after, STAGE_BATCH);
    staging.inTransaction(() => page.forEach(apply));
    if (page.length < STAGE_BATCH) return;
    const last = page[page.length - 1] as StagedLine;
    after = { seq: last.seq, lineNumber: last.line_number };
  }
}
