import type { MemoryRecord } from '@memhub/store';
import type { Output } from './output.js';

/** `1536` -> `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `12345` -> `12,345`. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** A time of a record as people read it: `2025-06-01 12:00:05` (UTC). */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

/** Content on one line, cut to `width` characters with an ellipsis. */
export function oneLine(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(1, width - 1))}…`;
}

const CONTENT_WIDTH_OFF_TERMINAL = 80;

/** Records as a table: id, time, layer, tags, recall count and content (one line each). */
export function printRecords(output: Output, records: readonly MemoryRecord[]): void {
  if (records.length === 0) {
    output.line(output.colors.dim('no records'));
    return;
  }
  const rows = records.map((record) => [
    record.id,
    formatTime(record.createdAt),
    record.layer,
    record.tags.join(','),
    String(record.recallCount),
    record.content,
  ]);
  // The content column gets what the terminal has left; off a terminal, a fixed width.
  const others = rows.reduce((widest, row) => widest.map((width, index) => Math.max(width, (row[index] ?? '').length)), [36, 19, 5, 4, 7]);
  const used = others.reduce((sum, width) => sum + width + 2, 0);
  const contentWidth = output.width === undefined ? CONTENT_WIDTH_OFF_TERMINAL : Math.max(20, output.width - used - 1);
  output.table(
    ['id', 'created', 'layer', 'tags', 'recalls', 'content'],
    rows.map((row) => [...row.slice(0, 5), oneLine(row[5] ?? '', contentWidth)]),
    ['left', 'left', 'left', 'left', 'right', 'left'],
  );
}

/** One record, field by field, the content in full. */
export function printRecord(output: Output, record: MemoryRecord): void {
  output.fields([
    ['id', record.id],
    ['seq', String(record.seq)],
    ['created', formatTime(record.createdAt)],
    ...(record.updatedAt === undefined ? [] : [['updated', formatTime(record.updatedAt)] as [string, string]]),
    ['layer', record.layer],
    ['tags', record.tags.join(', ')],
    ['context path', record.contextPath],
    ['recalls', String(record.recallCount)],
    ['key', record.key ?? ''],
    ['metadata', JSON.stringify(record.metadata)],
  ]);
  output.line();
  output.line(record.content);
}
