import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { StoreValidationError, type Store } from '@memhub/store';
import { recordAnswer } from './tool-results.js';

/** How many records a layer resource shows: the newest, so that reading a large layer stays cheap. */
export const LAYER_RESOURCE_RECORDS = 100;

/** The MCP specification's error code for a resource that does not exist. */
const RESOURCE_NOT_FOUND = -32002;

const JSON_TYPE = 'application/json';

/**
 * A read the client gets a JSON-RPC error for: the SDK answers with this `code` and `message`.
 * Not the SDK's McpError, whose message starts with "MCP error <code>: ", which the client's own
 * McpError then prefixes again.
 */
class ResourceReadError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/**
 * Registers the store's records as MCP resources, for a client (or its user) to browse and attach:
 * - `memhub://layers/{layer}`: a layer's newest records; listed, one per layer the store has;
 * - `memhub://records/{id}`: one record; not listed (a store holds too many), read by the id that
 *   a tool or a layer gave.
 */
export function registerMemoryResources(server: McpServer, store: Store): void {
  server.registerResource(
    'layer',
    new ResourceTemplate('memhub://layers/{layer}', {
      list: async () => ({
        resources: Object.entries((await store.stats()).recordsByLayer)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([layer, records]) => ({
            uri: layerUri(layer),
            name: `layer ${layer}`,
            title: `Layer ${layer}`,
            description: `${records} record${records === 1 ? '' : 's'}; reading shows the ${LAYER_RESOURCE_RECORDS} newest, without counting a recall.`,
            mimeType: JSON_TYPE,
          })),
      }),
      complete: { layer: async (prefix) => Object.keys((await store.stats()).recordsByLayer).filter((layer) => layer.startsWith(prefix)).sort() },
    }),
    {
      title: 'A layer of memory',
      description:
        `The ${LAYER_RESOURCE_RECORDS} newest records of a layer (application: working memory; archive: archived), ` +
        'as JSON {"layer", "newest", "records"}; the recall tool searches all of them. Reading does not count a recall.',
      mimeType: JSON_TYPE,
    },
    async (uri, variables) =>
      read(uri, async () => {
        const layer = variable(variables['layer'], 'layer');
        // Browsing a layer is not using its memories: it leaves their recall counts alone.
        const records = await store.recall({ layer, limit: LAYER_RESOURCE_RECORDS, count: false });
        return { layer, newest: LAYER_RESOURCE_RECORDS, records: records.map(recordAnswer) };
      }),
  );
  server.registerResource(
    'record',
    new ResourceTemplate('memhub://records/{id}', { list: undefined }),
    {
      title: 'A memory',
      description: 'One record by its id, as JSON. Reading it does not count a recall.',
      mimeType: JSON_TYPE,
    },
    async (uri, variables) =>
      read(uri, async () => {
        const id = variable(variables['id'], 'id');
        const record = await store.get(id);
        if (record === null) throw new ResourceReadError(RESOURCE_NOT_FOUND, `Resource not found: no record has id ${id}`, { uri: uri.href });
        return recordAnswer(record);
      }),
  );
}

function layerUri(layer: string): string {
  return `memhub://layers/${encodeURIComponent(layer)}`;
}

/** A resource's contents as JSON; a name the store refuses is the caller's error (invalid params), with the store's reason. */
async function read(uri: URL, work: () => Promise<unknown>): Promise<ReadResourceResult> {
  try {
    return { contents: [{ uri: uri.href, mimeType: JSON_TYPE, text: JSON.stringify(await work()) }] };
  } catch (error) {
    if (error instanceof StoreValidationError) throw new ResourceReadError(ErrorCode.InvalidParams, error.message);
    throw error;
  }
}

/**
 * A URI template variable as the text it stands for. The SDK hands it over as it appears in the
 * URI, percent-encoded: an imported record's id may hold any printable character, `/` and `%` too.
 */
function variable(value: string | string[] | undefined, name: string): string {
  if (typeof value !== 'string') throw new ResourceReadError(ErrorCode.InvalidParams, `Invalid ${name}: expected one value in the URI`);
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ResourceReadError(ErrorCode.InvalidParams, `Invalid ${name}: "${value}" is not valid percent-encoding`);
  }
}
