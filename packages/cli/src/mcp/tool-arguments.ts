import { z } from 'zod';
import { INPUT_LIMITS } from '@memhub/store';

/**
 * The store's own limits, shown to the model in the schemas so that it can keep within them before
 * a call fails. The store checks every one itself, naming the field; `content`'s is the default
 * maxContentBytes, which `memhub mcp` opens every store with (a UTF-16 code unit is at least one
 * UTF-8 byte, so the byte limit bounds the length too).
 */
const {
  archiveLayer: ARCHIVE_LAYER,
  defaultLayer: DEFAULT_LAYER,
  defaultRecallLimit: DEFAULT_RECALL_LIMIT,
  layerPattern: LAYER_PATTERN,
  maxIds: MAX_ARCHIVE_IDS,
  defaultMaxContentBytes: MAX_CONTENT_BYTES,
  maxContextPathLength: MAX_CONTEXT_PATH_LENGTH,
  maxIdLength: MAX_ID_LENGTH,
  maxKeyLength: MAX_KEY_LENGTH,
  maxQueryLength: MAX_QUERY_LENGTH,
  maxRecallLimit: MAX_RECALL_LIMIT,
  maxTagLength: MAX_TAG_LENGTH,
  maxTags: MAX_TAGS,
  maxMetadataBytes: METADATA_MAX_BYTES,
  maxMetadataDepth: METADATA_MAX_DEPTH,
} = INPUT_LIMITS;

/**
 * What each tool takes, as zod schemas the SDK checks every call against and shows to the model
 * as JSON Schema. Objects are strict: an unknown argument is refused, not dropped.
 *
 * Two kinds of rule, kept apart on purpose:
 * - the argument's type and shape, and rules the store has no check for (a time string's length,
 *   an id's), are checked by zod: a call that breaks one is refused with "Input validation error";
 * - the store's own rules (lengths, counts, the layer pattern, the recall limit) are declared in the
 *   JSON Schema with `storeRule` and checked by the store, one set of rules for every way in: its
 *   StoreValidationError names the field and says why (`Invalid limit: expected an integer from 1
 *   to 1000`), and comes back as an error result the model can read and correct.
 */

/** JSON Schema keywords that show the model a rule the store checks (see above). */
function storeRule<T extends z.ZodType>(schema: T, keywords: Record<string, number | string>): T {
  return schema.meta(keywords);
}

/** The largest time a JavaScript Date holds, in epoch milliseconds. */
const MAX_EPOCH_MS = 8_640_000_000_000_000;

/** A point in time, in the syntax of the command line's `--since`. */
function timeArgument(description: string) {
  return z
    .union([
      z.string().max(64).describe('An ISO 8601 time (2025-06-01, 2025-06-01T12:00:00Z), epoch milliseconds as digits, or an age: 90s, 30m, 12h, 7d, 2w (that long before now).'),
      z.number().int().min(0).max(MAX_EPOCH_MS).describe('Epoch milliseconds.'),
    ])
    .describe(description);
}

/** A duration: milliseconds, or a number and a unit. */
function durationArgument(description: string) {
  return z
    .union([z.string().max(32).describe('A number and a unit: 90s, 30m, 12h, 7d, 2w.'), z.number().int().min(1).describe('Milliseconds.')])
    .describe(description);
}

/** An absolute point in time (no ages: an expiry is in the future). */
function instantArgument(description: string) {
  return z
    .union([z.string().max(64).describe('An ISO 8601 time, such as 2026-06-01T12:00:00Z.'), z.number().int().min(0).max(MAX_EPOCH_MS).describe('Epoch milliseconds.')])
    .describe(description);
}

const tag = storeRule(z.string(), { minLength: 1, maxLength: MAX_TAG_LENGTH });

function tagsArgument(description: string) {
  return storeRule(z.array(tag), { maxItems: MAX_TAGS }).describe(`${description} At most ${MAX_TAGS} tags of 1 to ${MAX_TAG_LENGTH} characters.`);
}

const contextPath = storeRule(z.string(), { pattern: '^/', maxLength: MAX_CONTEXT_PATH_LENGTH });

const layer = storeRule(z.string(), { pattern: LAYER_PATTERN });

const LAYER_NAMES =
  `Any layer name may be used (1 to 64 of a-z, 0-9, _ and -, starting with a letter or digit): ` +
  `${DEFAULT_LAYER} is the default (working memory), ${ARCHIVE_LAYER} is where the archive tool moves records.`;

const recordId = storeRule(z.string().max(MAX_ID_LENGTH), { minLength: 1 });

export const rememberArguments = z.strictObject({
  content: storeRule(z.string(), { minLength: 1, maxLength: MAX_CONTENT_BYTES }).describe(
    `The memory, as text: not blank, at most ${MAX_CONTENT_BYTES} bytes as UTF-8 (1 MiB). Write it so that it makes sense on its own, later, to another agent.`,
  ),
  tags: tagsArgument('Tags to find it by later, e.g. ["deploy", "decision"].').optional(),
  contextPath: contextPath.optional().describe(`Where it belongs: an absolute path such as /projects/api (default /), at most ${MAX_CONTEXT_PATH_LENGTH} characters.`),
  layer: layer.optional().describe(`The layer to store it in (default ${DEFAULT_LAYER}). ${LAYER_NAMES}`),
  metadata: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(`Any JSON object stored with it (at most ${METADATA_MAX_BYTES / 1024} KiB as JSON, nested at most ${METADATA_MAX_DEPTH} deep).`),
  key: storeRule(z.string(), { minLength: 1, maxLength: MAX_KEY_LENGTH })
    .optional()
    .describe('Idempotency key: remembering the same key again returns the record first stored under it (created: false) and writes nothing. Use one to avoid duplicates.'),
  pinned: z.boolean().optional().describe('Pin it: pinned memories come first in recall and are never archived by a policy. For the few facts that must always be seen.'),
  ttl: durationArgument('It expires after this long: not recalled any more, and archived by maintain. For memories that are only true for a while.').optional(),
  expiresAt: instantArgument('It expires at this time (instead of ttl).').optional(),
});

export type RememberArguments = z.infer<typeof rememberArguments>;

export const recallArguments = z.strictObject({
  query: storeRule(z.string(), { maxLength: MAX_QUERY_LENGTH })
    .optional()
    .describe('Words to search for (full text, any of them, best match first). English word forms match (deploy finds deploys, deployed); a word ending in * is a prefix (depl*). No other query syntax.'),
  tags: tagsArgument('Only records with all of these tags.').optional(),
  anyTags: tagsArgument('Only records with at least one of these tags.').optional(),
  metadata: z
    .record(z.string().min(1).max(200), z.union([z.string(), z.number(), z.boolean(), z.null()]))
    .optional()
    .describe('Only records whose metadata has each of these top-level keys with exactly this value (a string, number, boolean or null), e.g. {"source": "runbook"}.'),
  contextPath: contextPath.optional().describe('Only records at this path or below it: /projects/api matches /projects/api/db, not /projects/apis.'),
  layer: layer.optional().describe(`Only this layer (default: every layer). ${LAYER_NAMES}`),
  since: timeArgument('Only records created at or after this time.').optional(),
  until: timeArgument('Only records created before this time.').optional(),
  limit: storeRule(z.number().int(), { minimum: 1, maximum: MAX_RECALL_LIMIT })
    .optional()
    .describe(`At most this many records, 1 to ${MAX_RECALL_LIMIT} (default ${DEFAULT_RECALL_LIMIT}).`),
  pinned: z.boolean().optional().describe('true: only pinned memories; false: only the others (default: both, the pinned first).'),
  explain: z.boolean().optional().describe('Give each record the parts of its score (text relevance, recency, usage, pin), to see why it came back.'),
});

export type RecallArguments = z.infer<typeof recallArguments>;

/** list: recall's filters without words, and nothing counted. */
export const listArguments = recallArguments.omit({ query: true, explain: true });

export type ListArguments = z.infer<typeof listArguments>;

export const getArguments = z.strictObject({ id: recordId.describe('The id of the record.') });

export const updateArguments = z.strictObject({
  idOrKey: storeRule(z.string(), { minLength: 1, maxLength: Math.max(MAX_ID_LENGTH, MAX_KEY_LENGTH) }).describe('The id of the record to change, or the key it was remembered with.'),
  content: storeRule(z.string(), { minLength: 1, maxLength: MAX_CONTENT_BYTES }).optional().describe('The new text (omit to keep it).'),
  tags: tagsArgument('The new tags, replacing the old ones (omit to keep them; [] removes them).').optional(),
  contextPath: contextPath.optional().describe('The new context path (omit to keep it).'),
  layer: layer.optional().describe(`The new layer (omit to keep it). ${LAYER_NAMES}`),
  metadata: z.record(z.string(), z.unknown()).optional().describe('The new metadata object, replacing the old one (omit to keep it).'),
  pinned: z.boolean().optional().describe('Pin (true) or unpin (false) it.'),
  ttl: durationArgument('It expires this long from now.').optional(),
  expiresAt: z.union([instantArgument('It expires at this time.'), z.null().describe('It never expires.')]).optional(),
  ifSeq: storeRule(z.number().int(), { minimum: 1 })
    .optional()
    .describe('The seq you read the record at: the update is written only if nobody changed the record since (otherwise an error says so and nothing is written).'),
});

export type UpdateArguments = z.infer<typeof updateArguments>;

export const historyArguments = z.strictObject({
  idOrKey: storeRule(z.string(), { minLength: 1, maxLength: Math.max(MAX_ID_LENGTH, MAX_KEY_LENGTH) }).describe('The id of the record, or the key it was remembered with.'),
});

export const maintainArguments = z.strictObject({
  olderThan: durationArgument('Archive application memories written longer ago than this.').optional(),
  recallCountBelow: storeRule(z.number().int(), { minimum: 1 }).optional().describe('Archive application memories recalled fewer times than this.'),
  notRecalledSince: durationArgument('Archive application memories not recalled for this long.').optional(),
  expired: z.enum(['archive', 'forget']).optional().describe('What to do with expired memories: archive (default) or forget them.'),
});

export type MaintainArguments = z.infer<typeof maintainArguments>;

export const forgetArguments = z.strictObject({ id: recordId.describe('The id of the record to delete.') });

/** The store takes exactly one criterion; min/maxProperties show that, and the store checks it. */
export const archiveArguments = storeRule(
  z.strictObject({
    ids: storeRule(z.array(recordId), { maxItems: MAX_ARCHIVE_IDS })
      .optional()
      .describe(`These records (at most ${MAX_ARCHIVE_IDS} ids).`),
    olderThan: timeArgument('The records created before this time: an age such as 30d archives what is older than 30 days.').optional(),
    recallCountBelow: storeRule(z.number().int(), { minimum: 0 })
      .optional()
      .describe('The records recalled fewer times than this (0 or more; 1 archives those never recalled).'),
  }),
  { minProperties: 1, maxProperties: 1 },
);

export type ArchiveArguments = z.infer<typeof archiveArguments>;

export const restoreArguments = z.strictObject({
  ids: storeRule(z.array(recordId), { maxItems: MAX_ARCHIVE_IDS }).describe(`The archived records to bring back (at most ${MAX_ARCHIVE_IDS} ids).`),
});

export const statsArguments = z.strictObject({});
