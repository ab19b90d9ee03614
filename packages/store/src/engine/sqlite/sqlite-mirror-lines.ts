import { recordJsonFromTail, recordJsonText, type EncodedLine } from '../../mirror/mirror-line.js';
import type { RecordRow } from './sqlite-tables.js';

/**
 * Mirror lines from rows of `records`, written as text: the row's tags and metadata are JSON
 * already, so they go into the line as they are, with no parse and stringify in between. Used by
 * the writer (the lines of its own transaction) and by the mirror source (lines read back).
 */

/** The `record` object of a line, for a record row in `layer`. */
export function recordText(row: Omit<RecordRow, 'seq'> & { readonly seq: number }, layer: string): string {
  return recordJsonText({
    id: row.id,
    seq: row.seq,
    content: row.content,
    tagsJson: row.tags,
    contextPath: row.context_path,
    layer,
    createdAt: new Date(row.created_at).toISOString(),
    recallCount: row.recall_count,
    metadataJson: row.metadata,
    key: row.idempotency_key,
  });
}

export function rememberLine(seq: number, row: RecordRow, layer: string): EncodedLine {
  return rememberLineFromRecord(seq, row.id, recordText(row, layer));
}

/** The remember line of a new record whose JSON was put together ahead (see recordJsonTail()). */
export function rememberLineFromTail(seq: number, id: string, recordTail: string): EncodedLine {
  return rememberLineFromRecord(seq, id, recordJsonFromTail(id, seq, recordTail));
}

function rememberLineFromRecord(seq: number, id: string, recordJson: string): EncodedLine {
  return { seq, op: 'remember', recordId: id, text: `{"v":1,"seq":${seq},"op":"remember","record":${recordJson}}\n` };
}

export function moveInLine(seq: number, row: RecordRow, layer: string, from: string): EncodedLine {
  return { seq, op: 'move-in', recordId: row.id, text: `{"v":1,"seq":${seq},"op":"move-in","from":${JSON.stringify(from)},"record":${recordText(row, layer)}}\n` };
}
