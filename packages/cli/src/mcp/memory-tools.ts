import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { StoreError, type RecallQuery, type RememberInput, type Store } from '@memhub/store';
import { z } from 'zod';

/**
 * The tool arguments' types as JSON Schema shows them to the model. The store's own rules
 * (non-empty content, layer names, absolute context paths, limits) are checked by the store,
 * one set of rules for every way in; its StoreValidationError names the field, and comes back
 * as an error result the model can read and correct.
 */
const rememberArguments = z.strictObject({
  content: z.string().describe('The memory, as text.'),
  tags: z.array(z.string()).optional().describe('Tags to find it by later, e.g. ["deploy", "decision"].'),
  contextPath: z.string().optional().describe('Where it belongs, an absolute path such as /projects/api (default /).'),
  layer: z.string().optional().describe('The layer: application (working memory, the default) or archive; names are a-z, 0-9, _ and -.'),
  metadata: z.record(z.string(), z.unknown()).optional().describe('Any JSON object stored with it.'),
  key: z.string().optional().describe('Idempotency key: remembering the same key again returns the first record and writes nothing.'),
});

const time = z.union([z.string(), z.number()]);

const recallArguments = z.strictObject({
  query: z.string().optional().describe('Words to search for (full text, best match first). Plain words, no query syntax.'),
  tags: z.array(z.string()).optional().describe('Only records with all of these tags.'),
  contextPath: z.string().optional().describe('Only records at this path or below it.'),
  layer: z.string().optional().describe('Only this layer.'),
  since: time.optional().describe('Created at or after: an ISO 8601 time or epoch milliseconds.'),
  until: time.optional().describe('Created before: an ISO 8601 time or epoch milliseconds.'),
  limit: z.number().int().optional().describe('At most this many records, 1 to 1000 (default 10).'),
});

const forgetArguments = z.strictObject({ id: z.string().describe('The id of the record to delete.') });

const statsArguments = z.strictObject({});

/**
 * Registers memhub's tools on an MCP server: `remember`, `recall`, `forget` and `stats`, all on
 * one open store. Results are JSON text. A bad argument or a refused input is an error result
 * (`isError: true`) with the reason; the server itself keeps running.
 *
 * ```ts
 * const server = new McpServer({ name: 'memhub', version: '0.1.0' });
 * registerMemoryTools(server, await openStore({ dir: './memory' }));
 * await server.connect(new StdioServerTransport());
 * ```
 */
export function registerMemoryTools(server: McpServer, store: Store, log: (message: string) => void): void {
  server.registerTool(
    'remember',
    {
      title: 'Remember',
      description: 'Store a memory (a note, a fact, a decision) so that this or another agent can recall it later. Returns the stored record with its id.',
      inputSchema: rememberArguments,
    },
    (input) => answer(log, 'remember', () => store.remember(dropUndefined<RememberInput>(input))),
  );
  server.registerTool(
    'recall',
    {
      title: 'Recall',
      description:
        'Find memories by words (best match first), tags, context path, layer and time; the newest first when no words are given. Returns an array of records.',
      inputSchema: recallArguments,
      annotations: { readOnlyHint: true },
    },
    (input) => answer(log, 'recall', () => store.recall(dropUndefined<RecallQuery>(input))),
  );
  server.registerTool(
    'forget',
    {
      title: 'Forget',
      description: 'Delete a memory by its id. Returns {"id", "forgotten"}: forgotten is false when no record had that id.',
      inputSchema: forgetArguments,
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    (input) => answer(log, 'forget', async () => ({ id: input.id, forgotten: await store.forget(input.id) })),
  );
  server.registerTool(
    'stats',
    {
      title: 'Memory statistics',
      description: 'How many memories the store holds, per layer, and the total of their recall counts.',
      inputSchema: statsArguments,
      annotations: { readOnlyHint: true },
    },
    () =>
      answer(log, 'stats', async () => {
        const stats = await store.stats();
        return {
          location: stats.location,
          engine: stats.engine,
          records: stats.records,
          recordsByLayer: stats.recordsByLayer,
          recallCountTotal: stats.recallCountTotal,
          databaseBytes: stats.databaseBytes,
        };
      }),
  );
}

/** Runs a tool's work: its value as JSON text, or an error result that says what was wrong. */
async function answer(log: (message: string) => void, tool: string, work: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    return { content: [{ type: 'text', text: JSON.stringify(await work()) }] };
  } catch (error) {
    // Refused input (StoreValidationError) and other store errors are the caller's to read;
    // anything else is also logged on stderr for whoever runs the server.
    if (!(error instanceof StoreError)) log(`${tool} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { isError: true, content: [{ type: 'text', text: error instanceof Error ? error.message : String(error) }] };
  }
}

/**
 * Optional arguments arrive as absent or, from some clients, as undefined after parsing; the store
 * checks that every field it is given is one it knows and has a value, so the absent ones are left out.
 */
function dropUndefined<T>(input: object): T {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as T;
}
