/**
 * Errors the command line raises itself. Each has a stable `code`, and the exit code it maps to
 * is decided in one place (`exitCodeFor` in run-cli.ts), next to the store's own errors.
 */
export class CliError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The command line asked for something that cannot be done as written: options that exclude
 * each other, a file that does not exist, a value that does not parse. Raised before the store
 * is opened, so nothing is written. Exit code 2.
 *
 * ```ts
 * throw new UsageError('give the content as an argument or with --stdin, not both');
 * ```
 */
export class UsageError extends CliError {
  constructor(message: string) {
    super('ERR_MEMHUB_USAGE', message);
  }
}

/**
 * The command was well formed but could not do what it was asked: no record with that id, no
 * store in the folder, an ingest worker that failed. Exit code 1.
 */
export class CommandFailedError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MEMHUB_COMMAND_FAILED', message, options);
  }
}

/**
 * The command was stopped by Ctrl-C (or SIGTERM) before it was done; its message says what was
 * done and how to finish. Exit code 130.
 */
export class CommandInterruptedError extends CliError {
  constructor(message: string) {
    super('ERR_MEMHUB_INTERRUPTED', message);
  }
}
