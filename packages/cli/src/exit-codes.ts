/**
 * The exit codes of `memhub`, stable for scripts to branch on.
 *
 * ```sh
 * memhub verify --dir ./memory; case $? in 0) echo healthy ;; 3) memhub repair --dir ./memory ;; esac
 * ```
 */
export const ExitCode = {
  /** The command did what was asked. */
  ok: 0,
  /** The command could not do it: no such record, a worker failed, a lock timed out, an I/O error, ... */
  failure: 1,
  /** The command line was wrong (unknown option, bad value, missing file, invalid record field); nothing was written. */
  usage: 2,
  /** `verify` (or the check after `repair`) found problems in the store; they are listed. */
  problemsFound: 3,
  /** `update --if-seq`: the record was updated by someone else first; nothing was written. */
  conflict: 4,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM before it was done; what was done is reported (128 + SIGINT's 2, as shells do). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit codes as `--help` shows them. */
export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  failure (no such record, a worker failed, a lock timed out, an I/O error)
  2  usage error (unknown option, bad value, missing file, invalid record field): nothing was written
  3  verify found problems in the store (they are listed)
  4  update --if-seq: the record was updated meanwhile; nothing was written
  130  interrupted (Ctrl-C): what was done is reported, with how to finish`;
