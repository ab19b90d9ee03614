export { runCli, buildProgram, exitCodeFor } from './run-cli.js';
export { ExitCode, EXIT_CODES_HELP } from './exit-codes.js';
export { CliError, UsageError, CommandFailedError, CommandInterruptedError } from './errors.js';
export { registerMemoryTools } from './mcp/memory-tools.js';
export { runIngest, type IngestPlan, type IngestProgress, type IngestOutcome } from './ingest/ingest-run.js';
export type { IngestSummary } from './commands/ingest.js';
export type { StatsReport } from './commands/stats.js';
export type { StoreLockReport } from './commands/locks.js';
export type { StoreTarget } from './store-target.js';
