import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { StoreError } from '@memhub/store';

/** Where the server reports what its operator should see (stderr): never stdout, which carries the protocol. */
export type ServerLog = (message: string) => void;

/**
 * Runs a tool's work and answers with its value twice: as JSON text, which every client shows the
 * model, and as `structuredContent`, the object the tool's outputSchema describes. A refused input
 * or a failure is an error result (`isError: true`) whose text says what was wrong; the server
 * itself keeps running.
 */
export async function answer<T>(log: ServerLog, tool: string, work: () => Promise<T>, structure: (value: T) => Record<string, unknown>): Promise<CallToolResult> {
  try {
    const value = await work();
    return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: structure(value) };
  } catch (error) {
    // Refused input (StoreValidationError) and other store errors are the caller's to read;
    // anything else is also logged on stderr for whoever runs the server.
    if (!(error instanceof StoreError)) log(`${tool} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { isError: true, content: [{ type: 'text', text: error instanceof Error ? error.message : String(error) }] };
  }
}
