/** A column of a plain-text table: its heading and which side its cells line up on. */
export interface Column {
  readonly heading: string;
  /** Numbers line up on the right so that their magnitudes can be compared at a glance. */
  readonly align: 'left' | 'right';
}

/**
 * Lays rows out as aligned plain text (two spaces between columns, a rule under the headings).
 * Plain text, not box drawing, so that the output pastes unchanged into a PR, an issue or a log.
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, index) =>
    Math.max(column.heading.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const width = widths[index] ?? 0;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(columns.map((column) => column.heading)), rule, ...rows.map(line)].join('\n');
}
