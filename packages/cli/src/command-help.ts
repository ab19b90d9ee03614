import type { Command } from 'commander';

/**
 * Adds a command's examples and exit codes to its `--help`, in one layout for every command.
 *
 * ```ts
 * withHelp(command, ['memhub get 0197a0c2-...'], 'Exit codes: 0 found, 1 no such record, 2 usage error');
 * ```
 */
export function withHelp(command: Command, examples: readonly string[], exitCodes = 'Exit codes: 0 ok, 1 failure, 2 usage error (nothing written)'): Command {
  return command.addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((example) => `  $ ${example}`).join('\n')}\n\n${exitCodes}\n`);
}
