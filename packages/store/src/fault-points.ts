/**
 * Fault points for crash tests: named places in the write path where a test can make the process
 * die, as a power cut or `kill -9` would, by starting it with `MEMHUB_FAULT=<name>`. Off unless
 * that variable is set (read once). The process kills itself with SIGKILL: no exit handlers, no
 * flush, no release, exactly like a crash.
 *
 * - `before-begin`: the write lock is held, the transaction not begun.
 * - `before-commit`: inside the write transaction, every change made, COMMIT not run.
 * - `handoff-after-send`: a process has handed its batch to the write leader, no answer yet.
 * - `leader-after-receive`: the write leader has received a batch, no transaction has it yet.
 * - `leader-before-commit`: the write leader's transaction with a handed batch, every change made, COMMIT not run.
 * - `leader-after-commit`: the write leader committed a handed batch; the mirror not appended, nobody answered.
 * - `after-commit`: committed, the mirror not appended, the callers (and the followers whose batches it committed) not answered.
 * - `mirror-before-append`: callers answered, their commits' lines owed to the mirror, the batched append not begun.
 * - `mirror-mid-append`: half of a batch's lines written to a layer file.
 * - `mirror-before-index`: lines appended, the index not brought up to date.
 * - `mirror-before-rebuild`: a layer file emptied for a rebuild, nothing written yet.
 * - `mirror-mid-rebuild`: a layer file being rebuilt, part of its lines written.
 * - `recall-flush`: a batch of recall counts about to be written.
 * - `search-index-before-commit`: a page of the search index's tail written in memory.search.db, its COMMIT not run.
 * - `rebuild-mid-replay`: rebuildFromMirror() has written a batch of the new database, not finished it.
 */
export type FaultPoint =
  | 'before-begin'
  | 'before-commit'
  | 'handoff-after-send'
  | 'leader-after-receive'
  | 'leader-before-commit'
  | 'leader-after-commit'
  | 'after-commit'
  | 'mirror-before-append'
  | 'mirror-mid-append'
  | 'mirror-before-index'
  | 'mirror-before-rebuild'
  | 'mirror-mid-rebuild'
  | 'recall-flush'
  | 'search-index-before-commit'
  | 'rebuild-mid-replay';

const armed = process.env['MEMHUB_FAULT'];
/**
 * `MEMHUB_FAULT_ACTION=stop` freezes the process there instead (SIGSTOP, once), as a debugger,
 * a suspended laptop or an overloaded host would: the test then resumes it (SIGCONT) or kills it.
 */
const action = process.env['MEMHUB_FAULT_ACTION'] === 'stop' ? 'SIGSTOP' : 'SIGKILL';
let stopped = false;

/**
 * Dies (or freezes) here if this fault point is armed; `before` runs first (to leave a half-done
 * write). Returns whether this thread stood still here (frozen, then resumed): what it checked
 * before may have changed meanwhile.
 */
export function hitFaultPoint(name: FaultPoint, before?: () => void): boolean {
  if (armed !== name || stopped) return false;
  before?.();
  if (action === 'SIGSTOP') stopped = true;
  process.kill(process.pid, action);
  return true;
}
