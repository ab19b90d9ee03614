/**
 * PostgreSQL `text` cannot hold U+0000, which memhub accepts in a record's content and key (and
 * SQLite stores). So those two are stored with NUL escaped, reversibly, by two noncharacters that
 * never occur in interchanged text and that the full-text parser treats as separators, as it
 * would a NUL:
 *
 *   U+0000 -> U+FFFF        U+FFFF -> U+FFFE U+FFFF        U+FFFE -> U+FFFE U+FFFE
 *
 * Text without these three characters (practically all text) is stored exactly as it is.
 */
const NUL = '\u0000';
const MARK = '\uFFFF';
const ESCAPE = '\uFFFE';
const NEEDS_ENCODING = /[\u0000\uFFFE\uFFFF]/;
const TO_ENCODE = /[\u0000\uFFFE\uFFFF]/g;
const TO_DECODE = /\uFFFE[\uFFFE\uFFFF]|\uFFFF/g;

/** The text as stored in a `text` column. */
export function toStoredText(text: string): string {
  if (!NEEDS_ENCODING.test(text)) return text;
  return text.replace(TO_ENCODE, (character) => (character === NUL ? MARK : `${ESCAPE}${character}`));
}

/** The text as it was given, from its stored form. */
export function fromStoredText(stored: string): string {
  if (!stored.includes(MARK) && !stored.includes(ESCAPE)) return stored;
  return stored.replace(TO_DECODE, (sequence) => (sequence === MARK ? NUL : sequence.slice(1)));
}

/**
 * Whether an id given to forget() or archive() could be in the store: stored ids are UUIDs or
 * printable ASCII (validate-import.ts), and a NUL, which PostgreSQL text cannot carry, would make
 * the server refuse the statement and fail the whole batch.
 */
export function storableId(id: string): boolean {
  return !id.includes('\0');
}
