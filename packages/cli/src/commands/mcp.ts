import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { CHANGE_TOOLS, READ_TOOLS } from '../mcp/tool-names.js';
import { addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * `memhub mcp`: an MCP server on stdio with the tools remember, recall, get, forget, archive and
 * stats, and the store's layers and records as resources. Each agent session starts its own; any
 * number of them share one store folder, which is what the store is built for.
 */
export function mcpCommand(): Command {
  const command = new Command('mcp')
    .summary('serve the store to an agent over MCP (stdio)')
    .description(
      `serve the store to an agent over MCP (stdio): tools ${[...CHANGE_TOOLS, ...READ_TOOLS].join(', ')}; ` +
        'resources memhub://layers/{layer} (its 100 newest records) and memhub://records/{id}. ' +
        'Start one per agent session; any number can share one --dir',
    )
    .option(
      '--read-only',
      `offer only the tools that change no record (${READ_TOOLS.join(', ')}) and the resources; ` +
        `${CHANGE_TOOLS.join(', ')} are not offered. The store must exist. recall still counts the records it finds`,
    );
  addScopeOption(addStoreOptions(command));
  withHelp(
    command,
    [
      'memhub mcp --dir ~/.memhub/team',
      'memhub mcp --dir ~/.memhub/team --read-only',
      'memhub mcp --dir ~/.memhub/team --scope /agents/alice',
      `claude mcp add memory -- "$(npm prefix)/node_modules/.bin/memhub" mcp --dir ~/.memhub/team`,
    ],
    'Exit codes: 0 after the client closed stdin or on SIGTERM/SIGINT, 1 failure (with --read-only: no store in the folder), 2 usage error',
  );
  return command.action(async (options: { readOnly?: boolean; debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const readOnly = options.readOnly === true;
    const log = (message: string) => process.stderr.write(`memhub mcp: ${message}\n`);
    // stdout carries the protocol and nothing else: anything a library would print goes to stderr.
    console.log = console.error;
    console.info = console.error;
    // Loaded here, not at the top: the SDK (with zod and ajv) would slow every other command's start.
    const [{ createMemoryServer }, { StdioJsonRpcTransport }] = await Promise.all([
      import('../mcp/memory-server.js'),
      import('../mcp/stdio-json-rpc-transport.js'),
    ]);
    // Read-only means that no tool adds, deletes or moves a record, so a server that could not
    // write one has no business creating a store: like `memhub recall`, it needs one to be there
    // (a mistyped --dir is an error, not a new empty store). The store is still opened as every
    // process opens it, and recall writes its recall counts, which are usage figures (what
    // `archive --recall-count-below` goes by), not a change to any record.
    const store = await openTargetStore(target, { mustExist: readOnly, debug: options.debug === true });
    const server = createMemoryServer({ store, version: VERSION, readOnly, scope: target.scope, log });
    const transport = new StdioJsonRpcTransport();
    const stopped = new Promise<string>((resolve) => {
      process.stdin.once('end', () => resolve('stdin closed'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
      transport.onclose = () => resolve('transport closed');
    });
    await server.connect(transport);
    log(`serving ${store.location}${target.scope === undefined ? '' : ` scope ${target.scope}`}${readOnly ? ' read-only' : ''} (pid ${process.pid})`);
    const why = await stopped;
    // close() lets the writes in flight finish and writes the pending recall counts.
    await server.close();
    await store.close();
    process.stdin.destroy();
    log(`stopped (${why})`);
  });
}
