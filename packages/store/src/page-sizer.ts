/**
 * Record text that one batch of a bulk read or write holds in memory, in UTF-16 code units
 * (string lengths, which cost nothing to read): a page of a paged read, and a transaction of an
 * import or of a rebuild from the mirror, which cut their batches short once it is reached.
 */
export const BATCH_CONTENT_CHARS = 4 * 1024 * 1024;
const FIRST_PAGE_ROWS = 16;
const MAX_PAGE_ROWS = 1_000;

/**
 * How many rows the next query of a paged read asks for, so that a page holds about 4 Mi
 * characters whatever the records weigh: a thousand short notes, or a few records near the
 * content limit (1 MiB by default), never hundreds of those. A read that pages through a store
 * (export, a mirror's catch-up) then holds a bounded amount of it, and small records still come
 * in few queries.
 *
 * ```ts
 * const pages = new PageSizer();
 * for (;;) {
 *   const limit = pages.size;
 *   const rows = query(after, limit);
 *   pages.measured(rows.length, rows.reduce((sum, row) => sum + row.content.length, 0));
 *   // ... use rows; stop when rows.length < limit
 * }
 * ```
 */
export class PageSizer {
  #size = FIRST_PAGE_ROWS;

  get size(): number {
    return this.#size;
  }

  /** After a page of `rows` rows that held `chars` characters of text: sizes the next one. */
  measured(rows: number, chars: number): void {
    if (rows === 0) return;
    const charsPerRow = Math.max(1, chars / rows);
    this.#size = Math.min(MAX_PAGE_ROWS, Math.max(1, Math.floor(BATCH_CONTENT_CHARS / charsPerRow)));
  }
}
