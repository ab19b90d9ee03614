/**
 * The lines every bench child process exchanges with its parent (line-child.ts), one per line.
 * Child -> parent on stdout: `ready` once it has loaded (and warmed up), then `result <json>` for
 * each measured run. Parent -> child on stdin: a `go ...` line starts a run, `exit` ends the child.
 * What follows `go` and what the JSON holds is each bench's own protocol.
 */
export const READY_LINE = 'ready';
export const GO_PREFIX = 'go ';
export const EXIT_LINE = 'exit';
export const RESULT_PREFIX = 'result ';
