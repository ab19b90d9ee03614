// An MCP client configuration shown in a README ({ "mcpServers": { name: { command, args } } }):
// what a user pastes into claude_desktop_config.json or .mcp.json. Each server must start
// `memhub mcp`, named one of the ways that reach this repository's CLI: the installed bin by its
// path, npx with the CLI's package name, or node with a file the CLI package has; and its store
// folder must be absolute, since the client starts the server in a folder of its own choosing.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

interface CliPackage {
  readonly name: string;
  readonly bin: Record<string, string>;
}

/** What is wrong with the configuration `config` (parsed JSON); empty when nothing is. */
export function mcpConfigProblems(config: unknown, repoRoot: string): string[] {
  const cli = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8')) as CliPackage;
  const servers = (config as { mcpServers?: unknown }).mcpServers;
  if (typeof servers !== 'object' || servers === null || Object.keys(servers).length === 0) return ['"mcpServers" is not an object of servers'];
  const problems: string[] = [];
  for (const [name, server] of Object.entries(servers as Record<string, unknown>)) {
    const { command, args } = server as { command?: unknown; args?: unknown };
    if (typeof command !== 'string' || !Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
      problems.push(`server "${name}": "command" must be a string and "args" an array of strings`);
      continue;
    }
    const memhubArgs = argsAfterMemhub(command, args as string[], cli, repoRoot);
    if (typeof memhubArgs === 'string') {
      problems.push(`server "${name}": ${memhubArgs}`);
      continue;
    }
    if (memhubArgs[0] !== 'mcp') problems.push(`server "${name}": runs memhub ${memhubArgs.join(' ')}, not memhub mcp`);
    const dir = memhubArgs[memhubArgs.indexOf('--dir') + 1];
    if (memhubArgs.includes('--dir') && (dir === undefined || !isAbsolute(dir))) problems.push(`server "${name}": --dir ${dir ?? ''} is not an absolute path`);
  }
  return problems;
}

/** The arguments memhub gets from `command args`, or why the command does not run this repository's memhub. */
function argsAfterMemhub(command: string, args: string[], cli: CliPackage, repoRoot: string): string[] | string {
  const binNames = Object.keys(cli.bin);
  const binName = command.split('/').pop() ?? '';
  if (binNames.includes(binName) && (command === binName || command.endsWith(`/node_modules/.bin/${binName}`))) return args;
  if (command === 'npx') {
    const rest = args[0] === '-y' || args[0] === '--yes' ? args.slice(1) : args;
    if (rest[0] === cli.name) return rest.slice(1);
    return `npx ${rest[0] ?? ''} is not the CLI's package (${cli.name})`;
  }
  if (command === 'node') {
    // A path into a clone of this repository: the part from packages/cli/ on must be a file here (once built).
    const inCli = /\/packages\/cli\/(.+)$/.exec(args[0] ?? '');
    if (inCli === null) return `node ${args[0] ?? ''} is not a file of packages/cli`;
    if (!existsSync(join(repoRoot, 'packages/cli', inCli[1]!))) return `node ${args[0]}: packages/cli/${inCli[1]} does not exist (after the build)`;
    return args.slice(1);
  }
  return `"${command}" is neither the ${binNames.join('/')} bin, npx ${cli.name} nor node with a file of packages/cli`;
}
