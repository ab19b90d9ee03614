import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { INPUT_LIMITS, type ArchivePolicy, type ArchiveSelector, type MaintainOptions, type RecallQuery, type RememberInput, type Store, type UpdateInput } from '@memhub/store';
import { answer, type ServerLog } from './tool-answer.js';
import {
  archiveArguments,
  restoreArguments,
  forgetArguments,
  getArguments,
  historyArguments,
  listArguments,
  maintainArguments,
  updateArguments,
  type MaintainArguments,
  type RememberArguments,
  type ListArguments,
  type UpdateArguments,
  recallArguments,
  rememberArguments,
  statsArguments,
  type ArchiveArguments,
  type RecallArguments,
} from './tool-arguments.js';
import {
  archiveResult,
  restoreResult,
  forgetResult,
  getResult,
  historyResult,
  maintainResult,
  updateResult,
  versionAnswer,
  recallResult,
  recalledAnswer,
  recordAnswer,
  rememberAnswer,
  rememberResult,
  statsAnswer,
  statsResult,
} from './tool-results.js';
import { storeDuration, storeInstant, storeTime } from './tool-time.js';

const { archiveLayer: ARCHIVE_LAYER, defaultLayer: DEFAULT_LAYER } = INPUT_LIMITS;

export interface MemoryToolOptions {
  /** Register only the tools that change no record (recall, get, stats): see READ_TOOLS. */
  readonly readOnly?: boolean;
}

/**
 * Registers memhub's tools on an MCP server, all on one open store: `recall`, `list`, `get`, `stats` and
 * `history`, and unless `readOnly`, `remember`, `update`, `forget`, `archive` and `restore`. Each answers with JSON text and with
 * `structuredContent`, the same value as an object (recall's list as `{ records }`; see
 * tool-results.ts). A bad argument or a refused input is an error result (`isError: true`) with
 * the reason; the server itself keeps running.
 *
 * ```ts
 * const server = new McpServer({ name: 'memhub', version: '0.1.0' });
 * registerMemoryTools(server, await openStore({ dir: './memory' }), (message) => console.error(message));
 * await server.connect(new StdioServerTransport());
 * ```
 */
export function registerMemoryTools(server: McpServer, store: Store, log: ServerLog, options: MemoryToolOptions = {}): void {
  if (options.readOnly !== true) registerChangeTools(server, store, log);
  registerReadTools(server, store, log);
}

function registerChangeTools(server: McpServer, store: Store, log: ServerLog): void {
  server.registerTool(
    'remember',
    {
      title: 'Remember',
      description:
        'Store a memory (a decision, a fact learned, a user preference, an outcome) so that this or another agent can recall it later. ' +
        'Returns the stored record with its id; created is false when the key was already in the store (nothing was written).',
      inputSchema: rememberArguments,
      outputSchema: rememberResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (input) => answer(log, 'remember', () => store.remember(rememberInput(input)), rememberAnswer),
  );
  server.registerTool(
    'update',
    {
      title: 'Update a memory',
      description:
        'Change a memory that is no longer right: give its id (or key) and only the fields to change; the others stay. The earlier version is kept (see history). ' +
        'Pass ifSeq (the seq you read it at) to write only if nobody changed it since. Returns the record as it is now.',
      inputSchema: updateArguments,
      outputSchema: updateResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (input) =>
      answer(
        log,
        'update',
        async () => {
          const { idOrKey, ...changes } = input;
          return recordAnswer(await store.update(idOrKey, updateInput(changes)));
        },
        (record) => record,
      ),
  );
  server.registerTool(
    'maintain',
    {
      title: 'Maintain the memory',
      description:
        `Apply the lifecycle: move expired memories to ${ARCHIVE_LAYER} (or forget them), and archive ${DEFAULT_LAYER} memories that are not pinned and meet every criterion given ` +
        '(olderThan, recallCountBelow, notRecalledSince; without any, the store\'s own policy). Returns what moved and why.',
      inputSchema: maintainArguments,
      outputSchema: maintainResult,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    (input) =>
      answer(
        log,
        'maintain',
        async () => {
          const report = await store.maintain(maintainOptions(input));
          return { archived: report.archived, forgotten: report.forgotten, changes: report.changes.map((change) => ({ ...change })) };
        },
        (result) => result,
      ),
  );
  server.registerTool(
    'forget',
    {
      title: 'Forget',
      description: 'Delete a memory by its id, for good. Returns {"id", "forgotten"}: forgotten is false when no record had that id.',
      inputSchema: forgetArguments,
      outputSchema: forgetResult,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    (input) => answer(log, 'forget', async () => ({ id: input.id, forgotten: await store.forget(input.id) }), (result) => result),
  );
  server.registerTool(
    'archive',
    {
      title: 'Archive',
      description:
        `Move memories out of working memory: from the ${DEFAULT_LAYER} layer to ${ARCHIVE_LAYER}, where recall still finds them with layer "${ARCHIVE_LAYER}" or no layer. ` +
        'Give exactly one of ids, olderThan or recallCountBelow. Records of other layers are not moved. Returns {"moved"}: how many moved.',
      inputSchema: archiveArguments,
      outputSchema: archiveResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (input) =>
      answer(
        log,
        'archive',
        async () => ({ moved: await store.archive(archiveSelector(input)) }),
        (result) => result,
      ),
  );
  server.registerTool(
    'restore',
    {
      title: 'Restore',
      description:
        `Bring archived memories back into working memory: from ${ARCHIVE_LAYER} to ${DEFAULT_LAYER}, by id. ` +
        `Records that are not in ${ARCHIVE_LAYER} are not moved. Returns {"moved"}: how many moved.`,
      inputSchema: restoreArguments,
      outputSchema: restoreResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (input) => answer(log, 'restore', async () => ({ moved: await store.restore(input.ids) }), (result) => result),
  );
}

function registerReadTools(server: McpServer, store: Store, log: ServerLog): void {
  server.registerTool(
    'recall',
    {
      title: 'Recall',
      description:
        'Find memories by words (best match first), tags, context path, layer and time; the newest first when no words are given. ' +
        'Returns the records (text: a JSON array; structured: {"records"}). Each record found counts one recall.',
      inputSchema: recallArguments,
      outputSchema: recallResult,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (input) =>
      answer(
        log,
        'recall',
        async () => (await store.recall(recallQuery(input))).map(recalledAnswer),
        (records) => ({ records }),
      ),
  );
  server.registerTool(
    'list',
    {
      title: 'List memories',
      description:
        'The newest memories (pinned first), by tags, context path, layer, metadata and time, without counting a recall: for looking through the store, not for using a memory. ' +
        'Returns the records (text: a JSON array; structured: {"records"}).',
      inputSchema: listArguments,
      outputSchema: recallResult,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    (input) =>
      answer(
        log,
        'list',
        async () => (await store.recall({ ...recallQuery(input), count: false })).map(recalledAnswer),
        (records) => ({ records }),
      ),
  );
  server.registerTool(
    'get',
    {
      title: 'Get a memory',
      description: 'Read one memory by its id (as remember, recall and the records resources give it). Returns {"record"}: null when no record has that id. Does not count a recall.',
      inputSchema: getArguments,
      outputSchema: getResult,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    (input) =>
      answer(
        log,
        'get',
        async () => {
          const record = await store.get(input.id);
          return { record: record === null ? null : recordAnswer(record) };
        },
        (result) => result,
      ),
  );
  server.registerTool(
    'history',
    {
      title: 'History of a memory',
      description: 'Every version of a memory, by its id or key, oldest first, each with its seq and the time it was written; the last is the memory as it is now. Returns {"versions"}.',
      inputSchema: historyArguments,
      outputSchema: historyResult,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    (input) => answer(log, 'history', async () => ({ versions: (await store.history(input.idOrKey)).map(versionAnswer) }), (result) => result),
  );
  server.registerTool(
    'stats',
    {
      title: 'Memory statistics',
      description: 'How many memories the store holds, in all and per layer, the total of their recall counts, and the database size.',
      inputSchema: statsArguments,
      outputSchema: statsResult,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    () => answer(log, 'stats', async () => statsAnswer(await store.stats()), (stats) => stats),
  );
}

/** The recall arguments as the store takes them: times read in the command line's syntax. */
function recallQuery(input: RecallArguments | ListArguments): RecallQuery {
  const { since, until, ...filters } = input;
  return definedFields<RecallQuery>({
    ...filters,
    since: since === undefined ? undefined : storeTime(since, 'since'),
    until: until === undefined ? undefined : storeTime(until, 'until'),
  });
}

/** The archive arguments as the store's selector; which one was given, and that only one was, the store checks. */
function archiveSelector(input: ArchiveArguments): ArchiveSelector {
  const { olderThan, ...criteria } = input;
  return definedFields<ArchiveSelector>({ ...criteria, olderThan: olderThan === undefined ? undefined : storeTime(olderThan, 'olderThan') });
}

/** remember's arguments as the store takes them: a ttl or an expiry read in the command line's syntax. */
function rememberInput(input: RememberArguments): RememberInput {
  const { ttl, expiresAt, ...fields } = input;
  return definedFields<RememberInput>({
    ...fields,
    ttl: ttl === undefined ? undefined : storeDuration(ttl, 'ttl'),
    expiresAt: expiresAt === undefined ? undefined : storeInstant(expiresAt, 'expiresAt'),
  });
}

function updateInput(input: Omit<UpdateArguments, 'idOrKey'>): UpdateInput {
  const { ttl, expiresAt, ...fields } = input;
  return definedFields<UpdateInput>({
    ...fields,
    ttl: ttl === undefined ? undefined : storeDuration(ttl, 'ttl'),
    // null (clear the expiry) is a value here, so it is kept apart from the absent fields.
    ...(expiresAt === undefined ? {} : { expiresAt: storeInstant(expiresAt, 'expiresAt') }),
  });
}

function maintainOptions(input: MaintainArguments): MaintainOptions {
  const { expired, olderThan, notRecalledSince, recallCountBelow } = input;
  const policy = definedFields<ArchivePolicy>({
    olderThan: olderThan === undefined ? undefined : storeDuration(olderThan, 'olderThan'),
    notRecalledSince: notRecalledSince === undefined ? undefined : storeDuration(notRecalledSince, 'notRecalledSince'),
    recallCountBelow,
  });
  return definedFields<MaintainOptions>({ expired, policy: Object.keys(policy).length === 0 ? undefined : policy });
}

/**
 * Optional arguments arrive as absent or, from some clients, as undefined after parsing; the store
 * checks that every field it is given is one it knows and has a value, so the absent ones are left out.
 */
function definedFields<T>(input: object): T {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as T;
}
