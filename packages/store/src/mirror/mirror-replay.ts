import { createHash } from 'node:crypto';
import type { MemoryRecord } from '../memory-record.js';
import { layerEffectOf } from '../changes/change-codec.js';
import { recordFields } from '../record-json.js';
import { MirrorLineError, parseMirrorLine, type MirrorLine } from './mirror-line.js';

/**
 * What a replay keeps of a record: a digest of its fields (recall count aside) and its recall
 * count, not the record itself, so that verifying a layer of many large records holds a few dozen
 * bytes per record in memory, never their content.
 */
export interface ReplayedRecord {
  readonly digest: string;
  readonly recallCount: number;
}

/** The digest a replay keeps of a record in `layer`; verify() compares the database's records by it. */
export function recordDigest(record: MemoryRecord, layer: string): string {
  return createHash('sha256')
    .update(JSON.stringify(recordFields({ ...record, layer, recallCount: 0 })))
    .digest('base64');
}

/**
 * A layer's records as its mirror lines add up to, fed one line at a time in file order (the
 * file is never held in memory, nor the records' content: see ReplayedRecord). Lines that are not
 * mirror lines are noted with their line number, byte offset and reason, and otherwise skipped.
 */
export class MirrorReplay {
  readonly layer: string;
  readonly records = new Map<string, ReplayedRecord>();
  readonly badLines: { readonly lineNumber: number; readonly offset: number; readonly reason: string }[] = [];
  /** Lines whose seq was not above the previous line's. */
  outOfOrder = 0;
  lastSeq = 0;
  #lineNumber = 0;

  constructor(layer: string) {
    this.layer = layer;
  }

  /** Applies one line (without its `\n`); false when it is not a mirror line. */
  feed(text: string, offset: number, _length: number): boolean {
    this.#lineNumber += 1;
    let line: MirrorLine;
    try {
      line = parseMirrorLine(text);
    } catch (error) {
      if (!(error instanceof MirrorLineError)) throw error;
      this.badLines.push({ lineNumber: this.#lineNumber, offset, reason: error.reason });
      return false;
    }
    if (line.seq <= this.lastSeq) this.outOfOrder += 1;
    this.lastSeq = Math.max(this.lastSeq, line.seq);
    applyMirrorLine(this.records, line, this.layer);
    return true;
  }
}

/**
 * What one line does to a layer's records (see layerEffectOf, the one place that says it). Recall
 * counts replay by maximum (lines hold totals, and totals only grow), so a line applied twice, or
 * a record line written later than a recall-count line, never makes a count go wrong.
 */
export function applyMirrorLine(records: Map<string, ReplayedRecord>, line: MirrorLine, layer: string): void {
  const effect = layerEffectOf(line);
  switch (effect.kind) {
    case 'enter': {
      const known = records.get(effect.record.id);
      const recallCount = Math.max(known?.recallCount ?? 0, effect.record.recallCount);
      records.set(effect.record.id, { digest: recordDigest(effect.record, layer), recallCount });
      return;
    }
    case 'leave':
      records.delete(effect.id);
      return;
    case 'raise-counts':
      for (const [id, total] of Object.entries(effect.counts)) {
        const known = records.get(id);
        if (known !== undefined && total > known.recallCount) records.set(id, { ...known, recallCount: total });
      }
      return;
    case 'none':
      return;
  }
}
