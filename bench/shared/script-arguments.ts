/**
 * The command line a bench script was given, without a leading `--`: pnpm 10 passes it on as it
 * was typed (`pnpm soak -- --minutes 3` reaches the script as `-- --minutes 3`), and parseArgs
 * would take everything after it for positionals. `pnpm soak --minutes 3` needs no `--` at all.
 */
export function scriptArguments(argv: readonly string[] = process.argv.slice(2)): string[] {
  return argv[0] === '--' ? argv.slice(1) : [...argv];
}
