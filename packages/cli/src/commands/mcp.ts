import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * `memhub mcp`: an MCP server on stdio with the tools remember, recall, forget and stats. Each
 * agent session starts its own; any number of them share one store folder, which is what the
 * store is built for.
 */
export function mcpCommand(): Command {
  const command = new Command('mcp').summary('serve the store to an agent over MCP (stdio)')
    .description(
    'serve the store to an agent over MCP (stdio): tools remember, recall, forget, stats. Start one per agent session; any number can share one --dir',
  );
  addStoreOptions(command);
  withHelp(
    command,
    [
      'memhub mcp --dir ~/.memhub/team',
      `claude mcp add memory -- npx memhub mcp --dir ~/.memhub/team`,
    ],
    'Exit codes: 0 after the client closed stdin or on SIGTERM/SIGINT, 1 failure, 2 usage error',
  );
  return command.action(async (options: { debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const log = (message: string) => process.stderr.write(`memhub mcp: ${message}\n`);
    // stdout carries the protocol and nothing else: anything a library would print goes to stderr.
    console.log = console.error;
    console.info = console.error;
    // Loaded here, not at the top: the SDK (with zod and ajv) would slow every other command's start.
    const [{ McpServer }, { StdioServerTransport }, { registerMemoryTools }] = await Promise.all([
      import('@modelcontextprotocol/sdk/server/mcp.js'),
      import('@modelcontextprotocol/sdk/server/stdio.js'),
      import('../mcp/memory-tools.js'),
    ]);
    const store = await openTargetStore(target, { mustExist: false, debug: options.debug === true });
    const server = new McpServer({ name: 'memhub', version: VERSION }, { capabilities: { tools: {} } });
    registerMemoryTools(server, store, log);
    const transport = new StdioServerTransport();
    const stopped = new Promise<string>((resolve) => {
      process.stdin.once('end', () => resolve('stdin closed'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
      transport.onclose = () => resolve('transport closed');
    });
    await server.connect(transport);
    log(`serving ${store.location} (pid ${process.pid})`);
    const why = await stopped;
    // close() lets the writes in flight finish and writes the pending recall counts.
    await server.close();
    await store.close();
    process.stdin.destroy();
    log(`stopped (${why})`);
  });
}
