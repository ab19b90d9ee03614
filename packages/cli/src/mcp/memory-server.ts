import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Store } from '@memhub/store';
import { registerMemoryResources } from './memory-resources.js';
import { registerMemoryTools } from './memory-tools.js';
import { serverInstructions } from './server-instructions.js';
import type { ServerLog } from './tool-answer.js';

export interface MemoryServerOptions {
  readonly store: Store;
  /** The version the server reports to clients (the CLI's). */
  readonly version: string;
  /** Only the tools that change no record; the resources as always. */
  readonly readOnly: boolean;
  /** The scope the store was opened with (`--scope`), if any: the instructions say what it means. */
  readonly scope?: string | undefined;
  readonly log: ServerLog;
}

/**
 * The MCP server of one store, not connected yet: its instructions for the model, the tools
 * (memory-tools.ts) and the resources (memory-resources.ts).
 */
export function createMemoryServer(options: MemoryServerOptions): McpServer {
  const server = new McpServer(
    { name: 'memhub', title: options.readOnly ? 'memhub memory (read-only)' : 'memhub memory', version: options.version },
    {
      capabilities: { tools: {}, resources: {} },
      instructions: serverInstructions(options.readOnly, options.scope),
    },
  );
  // What the SDK cannot hand to a request (a line that is not a message, an unknown response) goes to the log.
  server.server.onerror = (error) => options.log(error.message);
  registerMemoryTools(server, options.store, options.log, { readOnly: options.readOnly });
  registerMemoryResources(server, options.store);
  return server;
}
