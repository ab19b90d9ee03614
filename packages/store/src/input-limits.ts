/**
 * The limits the store puts on what a caller passes it, in one place: the validators check them,
 * and a client that describes the store's input to others (the MCP server's JSON Schemas) shows
 * the same numbers instead of a copy that could drift.
 */
export const INPUT_LIMITS = Object.freeze({
  /** `content` in UTF-8 bytes, by default (openStore's maxContentBytes may raise or lower it). */
  defaultMaxContentBytes: 1024 * 1024,
  maxTags: 64,
  maxTagLength: 200,
  maxKeyLength: 512,
  maxContextPathLength: 4096,
  maxMetadataDepth: 32,
  maxMetadataBytes: 256 * 1024,
  /** The ids the store gives or keeps: at most this many printable ASCII characters. */
  maxIdLength: 128,
  /** A layer name is a file name in the store folder: 1 to 64 of a-z, 0-9, _ and -, not starting with _ or -. */
  layerPattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
  defaultLayer: 'application',
  /** archive() moves records from the default layer to this one; restore() moves them back. */
  archiveLayer: 'archive',
  maxQueryLength: 2000,
  maxRecallLimit: 1000,
  defaultRecallLimit: 10,
  /** ids of one archive() or restore() call. */
  maxIds: 10_000,
});
