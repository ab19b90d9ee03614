/**
 * The server's `instructions`, which a client passes on to its model: when to use the memory, not
 * how each tool works (their descriptions and schemas say that).
 */
export function serverInstructions(readOnly: boolean, scope?: string): string {
  const shared =
    scope === undefined || scope === '/'
      ? 'memhub is a long-term memory shared by several agents: every agent connected to this store reads what the others remember, ' +
        'and they write to it at the same time.'
      : 'memhub is a long-term memory. This session works in its own part of a shared store: what it remembers is seen by the sessions ' +
        'of the same part only, and it sees only what they remember; context paths are relative to that part (/ is its root).';
  const recall =
    'Recall before you start a task (search with a few words of the task, or by tags or context path), and whenever the user refers to ' +
    'earlier work, a past decision or something "we" did or agreed. Do not assume a memory is current: check its createdAt.';
  if (readOnly) {
    return `${shared} This server is read-only: it offers recall, list, get, history and stats, and nothing can be remembered, updated, forgotten or archived through it. ${recall}`;
  }
  const remember =
    'Remember what would help later, this session or another agent: decisions and why they were taken, facts learned about the ' +
    'project or its systems, the user\'s preferences, and the outcomes of tasks (what worked, what failed). Write each memory so that it ' +
    'makes sense on its own, add tags and a context path (such as /projects/api) to find it by, and give a key (e.g. "decision:db-engine") ' +
    'when the same fact may be remembered again: a known key returns the stored record instead of a duplicate. ' +
    'Do not store secrets. Update a memory that changed (its earlier versions stay in its history) rather than adding a contradicting one; ' +
    'forget memories that turned out wrong; archive ones that are no longer current (restore brings them back).';
  return `${shared} ${recall} ${remember}`;
}
