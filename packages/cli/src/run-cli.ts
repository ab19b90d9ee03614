import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { CommandResult } from './command-result.js';
import { archiveCommand } from './commands/archive.js';
import { restoreCommand } from './commands/restore.js';
import { exportCommand } from './commands/export.js';
import { updateCommand } from './commands/update.js';
import { historyCommand } from './commands/history.js';
import { maintainCommand } from './commands/maintain.js';
import { forgetCommand } from './commands/forget.js';
import { getCommand } from './commands/get.js';
import { importCommand } from './commands/import.js';
import { ingestCommand } from './commands/ingest.js';
import { locksCommand } from './commands/locks.js';
import { mcpCommand } from './commands/mcp.js';
import { rebuildCommand } from './commands/rebuild.js';
import { recallCommand } from './commands/recall.js';
import { listCommand } from './commands/list.js';
import { rememberCommand } from './commands/remember.js';
import { repairCommand } from './commands/repair.js';
import { statsCommand } from './commands/stats.js';
import { verifyCommand } from './commands/verify.js';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Runs one `memhub` command line and resolves with its exit code; it never calls process.exit,
 * so output is flushed and stores are closed before the process ends.
 *
 * ```ts
 * process.exitCode = await runCli(['recall', 'deploy', '--dir', './memory', '--json']);
 * ```
 */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const result: CommandResult = { exitCode: ExitCode.ok };
  const program = buildProgram(result);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result.exitCode;
  } catch (error) {
    return reportError(error, argv.includes('--debug') || env['MEMHUB_DEBUG'] === '1');
  }
}

/** The whole command line: every command, with the options, help and error output they share. */
export function buildProgram(result: CommandResult): Command {
  const program = new Command('memhub')
    .description('memhub: a memory store for AI agents that many processes can share. Every command works on the store in --dir (default ./.memhub, or MEMHUB_DIR).')
    .version(VERSION, '-V, --version')
    .addHelpText(
      'after',
      `\nExamples:\n  $ memhub remember "The deploy needs Node 20" --tag deploy\n  $ memhub recall deploy --json\n  $ memhub ingest notes.jsonl --workers 4\n\nEnvironment:\n  MEMHUB_DIR     the store folder (default ./.memhub)\n  MEMHUB_URL     a PostgreSQL store instead (postgres://...), with MEMHUB_SCHEMA\n  MEMHUB_DEBUG   1: print stack traces of unexpected errors\n  NO_COLOR       set: no colour even on a terminal\n\n${EXIT_CODES_HELP}\n`,
    );
  const commands = [
    rememberCommand(),
    recallCommand(),
    listCommand(),
    getCommand(),
    updateCommand(),
    historyCommand(),
    forgetCommand(),
    archiveCommand(),
    restoreCommand(),
    maintainCommand(),
    ingestCommand(),
    exportCommand(),
    importCommand(),
    statsCommand(),
    verifyCommand(result),
    repairCommand(result),
    rebuildCommand(),
    locksCommand(),
    mcpCommand(),
  ];
  for (const command of [program, ...commands]) {
    command
      .exitOverride()
      .showHelpAfterError('(add --help for usage and an example)')
      .configureOutput({ outputError: (text, write) => write(`memhub: ${text.replace(/^error: /, '')}`) });
    if (command !== program) program.addCommand(command);
  }
  return program;
}

/**
 * The one place where an error becomes a message and an exit code: usage errors and refused
 * input are 2, expected failures (the command line's, the store's and the lock's own typed
 * errors) 1 with one clear line, anything else 1 with its stack only when debugging (and a hint
 * that it exists otherwise).
 */
function reportError(error: unknown, debug: boolean): ExitCode {
  if (error instanceof CommanderError) {
    // Commander has printed its message (or the help, or the version) already.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  const code = exitCodeFor(error);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`memhub: ${message}\n`);
  if (code === ExitCode.failure && memhubCodeOf(error) === undefined) {
    if (debug && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
    else if (!debug) process.stderr.write('memhub: (run with --debug or MEMHUB_DEBUG=1 for the stack trace)\n');
  }
  return code;
}

/**
 * The `code` of one of memhub's own typed errors (the command line's and the store's ERR_MEMHUB_*,
 * the lock's ERR_LOCK_*: stable, documented codes), else undefined: an unexpected error. Told by
 * the code rather than by class, so that reporting an error never loads the store's modules (a
 * command like --help or --version loads none).
 */
function memhubCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && (code.startsWith('ERR_MEMHUB_') || code.startsWith('ERR_LOCK_')) ? code : undefined;
}

/** Codes of a command line that asked for something wrong: unusable arguments, a bad record field, a bad lock argument. */
const USAGE_CODES = new Set(['ERR_MEMHUB_USAGE', 'ERR_MEMHUB_VALIDATION', 'ERR_LOCK_ARGUMENT']);

/** The exit code an error maps to. */
export function exitCodeFor(error: unknown): ExitCode {
  const code = memhubCodeOf(error);
  if (code === 'ERR_MEMHUB_INTERRUPTED') return ExitCode.interrupted;
  if (code === 'ERR_MEMHUB_CONFLICT') return ExitCode.conflict;
  return code !== undefined && USAGE_CODES.has(code) ? ExitCode.usage : ExitCode.failure;
}
