import type { ExitCode } from './exit-codes.js';

/**
 * How a command that completed tells the run its exit code, when that is not 0 (verify's 3).
 * Failures are thrown instead, and mapped to their codes in one place (run-cli.ts).
 */
export interface CommandResult {
  exitCode: ExitCode;
}
