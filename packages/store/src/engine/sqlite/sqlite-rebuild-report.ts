import { SKIPPED_LINE_KINDS, type SkippedLineKind } from './sqlite-rebuild-lines.js';
import type { RebuildStaging } from './sqlite-rebuild-staging.js';

/** A line of a layer file that rebuildFromMirror() did not apply. Its bytes are in the layer's quarantine file. */
export interface RebuildSkippedLine {
  /** 1-based. */
  readonly lineNumber: number;
  /** Byte offset of the line in the layer file (as it was before the rebuild rewrote it). */
  readonly offset: number;
  readonly kind: SkippedLineKind;
  readonly reason: string;
}

/** Skipped lines counted by kind (every kind is there, 0 when none). */
export type SkippedLineCounts = Readonly<Record<SkippedLineKind, number>>;

/** What rebuildFromMirror() read from one layer file. */
export interface RebuildLayerReport {
  readonly layer: string;
  /** The layer file's path. */
  readonly file: string;
  /** Lines read (a torn last line counts as one). */
  readonly lines: number;
  /** The first MAX_LISTED_SKIPPED_LINES skipped lines, in file order; `skippedLines` counts them all. */
  readonly badLines: readonly RebuildSkippedLine[];
  readonly skippedLines: number;
  readonly skippedByKind: SkippedLineCounts;
  /** Lines whose seq is below an earlier line's: not skipped, but replayed in seq order. */
  readonly reordered: number;
}

/** Skipped lines listed per layer in a report (all of them are counted, and all are quarantined). */
export const MAX_LISTED_SKIPPED_LINES = 1000;

export function noSkippedLines(): Record<SkippedLineKind, number> {
  return Object.fromEntries(SKIPPED_LINE_KINDS.map((kind) => [kind, 0])) as Record<SkippedLineKind, number>;
}

/** Each layer's report, and the skipped lines of all layers by kind. */
export function rebuildLayerReports(
  staging: RebuildStaging,
  read: readonly { readonly layer: string; readonly file: string; readonly lines: number; readonly reordered: number }[],
): { readonly layers: RebuildLayerReport[]; readonly skippedLines: number; readonly skippedByKind: SkippedLineCounts } {
  const total = noSkippedLines();
  const perLayer = new Map<string, Record<SkippedLineKind, number>>();
  for (const { layer, kind, lines } of staging.skippedCounts()) {
    const counts = perLayer.get(layer) ?? noSkippedLines();
    counts[kind] += lines;
    total[kind] += lines;
    perLayer.set(layer, counts);
  }
  const layers = read.map(({ layer, file, lines, reordered }) => {
    const skippedByKind = perLayer.get(layer) ?? noSkippedLines();
    const badLines = staging
      .skippedPage(layer, 0, MAX_LISTED_SKIPPED_LINES)
      .map((row) => ({ lineNumber: row.line_number, offset: row.offset, kind: row.kind, reason: row.reason }));
    return { layer, file, lines, badLines, skippedLines: sum(skippedByKind), skippedByKind, reordered };
  });
  return { layers, skippedLines: sum(total), skippedByKind: total };
}

function sum(counts: SkippedLineCounts): number {
  return Object.values(counts).reduce((all, count) => all + count, 0);
}
