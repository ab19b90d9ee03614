/**
 * The MCP tools by what they do to the store. A file without imports: `memhub mcp --help` lists
 * them from here without loading the MCP SDK or zod.
 */

/** Tools that only read records (recall counts its hits, which is not a change to any record). */
export const READ_TOOLS = ['recall', 'list', 'get', 'history', 'stats'] as const;

/** Tools that add, change, delete or move records: left out by `memhub mcp --read-only`. */
export const CHANGE_TOOLS = ['remember', 'update', 'forget', 'archive', 'restore', 'maintain'] as const;

export type ToolName = (typeof READ_TOOLS)[number] | (typeof CHANGE_TOOLS)[number];
