/**
 * The store's limits on what a tool passes it, shown to the model in the tools' JSON Schemas so that
 * it can keep within them before a call fails. The store does not export them: they are copied from
 * packages/store/src/validate-record.ts, validate-recall.ts, validate-archive.ts and store-options.ts.
 * The store still checks every one of them itself (with its own message, naming the field), so a
 * copy that drifted would make a schema wrong, never let bad input through.
 */

/**
 * `content` in UTF-8 bytes: the store's default maxContentBytes (1 MiB), which `memhub mcp` opens
 * every store with. A UTF-16 code unit is at least one UTF-8 byte, so it bounds the length too.
 */
export const MAX_CONTENT_BYTES = 1024 * 1024;
export const MAX_TAGS = 64;
export const MAX_TAG_LENGTH = 200;
export const MAX_KEY_LENGTH = 512;
export const MAX_CONTEXT_PATH_LENGTH = 4096;
/** A layer name is a file name in the store folder: 1 to 64 of a-z, 0-9, _ and -, not starting with _ or -. */
export const LAYER_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
export const DEFAULT_LAYER = 'application';
/** archive() moves records from the default layer to this one. */
export const ARCHIVE_LAYER = 'archive';
export const METADATA_MAX_BYTES = 256 * 1024;
export const METADATA_MAX_DEPTH = 32;
export const MAX_QUERY_LENGTH = 2000;
export const MAX_RECALL_LIMIT = 1000;
export const DEFAULT_RECALL_LIMIT = 10;
export const MAX_ARCHIVE_IDS = 10_000;
/** The ids the store gives or keeps (validateRecordId): at most 128 printable ASCII characters. */
export const MAX_ID_LENGTH = 128;
