// The store the READMEs' commands find where they read one (`memhub recall`, `get <id>`, `archive
// --recall-count-below 1`, ...): made for those examples, so that each does what the README says
// it does, on records it can act on, rather than exiting 1 on a missing store or printing nothing.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '@memhub/store';

/** The id the cli README gets and forgets; `0197a0c2-...` in its archive and restore examples. */
export const DEPLOY_NOTE_ID = '0197a0c2-5c3e-7b4d-9a41-2f6de0c1b8aa';
/** The record behind the cli README's `0197a0c3-...`, the second id of its `archive --ids` example. */
export const DECISION_ID = '0197a0c3-1d2e-7f40-8b12-3c4d5e6f7a8b';

/** How many records `memhub archive --recall-count-below 1` moves on this store, once `--older-than 30d` ran: the cli README shows `{"archived": 12}`. */
export const NEVER_RECALLED_NOTES = 12;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface SeedRecord {
  readonly id: string;
  readonly content: string;
  readonly tags: readonly string[];
  readonly layer: 'application' | 'archive';
  readonly ageMs: number;
  readonly recallCount: number;
  readonly key?: string;
}

/**
 * - the runbook note (tags deploy, node; /projects/api), recalled 3 times: what `recall "deploy
 *   node" --tag deploy --context-path /projects` finds, and `get`/`forget <id>` act on;
 * - a decision of two hours ago (tag decision), recalled twice: `list --tag decision --since 7d`;
 * - 12 notes of the last hour never recalled: `archive --recall-count-below 1` moves exactly these;
 * - 3 decisions of 60 days ago, recalled once: `archive --older-than 30d` moves these;
 * - 2 decisions in the archive layer: `list --layer archive --tag decision | xargs memhub restore`.
 */
function seedRecords(): SeedRecord[] {
  const seconds = (n: number): string => n.toString(16).padStart(12, '0');
  const records: SeedRecord[] = [
    { id: DEPLOY_NOTE_ID, content: 'The deploy needs Node 20', tags: ['deploy', 'node'], layer: 'application', ageMs: HOUR, recallCount: 3, key: 'runbook-42' },
    { id: DECISION_ID, content: 'Chose SQLite for the embedded engine', tags: ['decision'], layer: 'application', ageMs: 2 * HOUR, recallCount: 2 },
  ];
  for (let n = 1; n <= NEVER_RECALLED_NOTES; n++) {
    records.push({ id: `0197a0d0-0000-7000-8000-${seconds(n)}`, content: `Note ${n} of the deploy checklist`, tags: ['note'], layer: 'application', ageMs: n * 60_000, recallCount: 0 });
  }
  for (let n = 1; n <= 3; n++) {
    records.push({ id: `0197a0e0-0000-7000-8000-${seconds(n)}`, content: `Old decision ${n}: keep the lock file`, tags: ['decision'], layer: 'application', ageMs: 60 * DAY, recallCount: 1 });
  }
  for (let n = 1; n <= 2; n++) {
    records.push({ id: `0197a0f0-0000-7000-8000-${seconds(n)}`, content: `Archived decision ${n}: one store per host`, tags: ['decision'], layer: 'archive', ageMs: 40 * DAY, recallCount: 0 });
  }
  return records;
}

/** Every id of the seeded store, for the placeholders of the READMEs (`0197a0c3-...`). */
export function seededIds(): string[] {
  return seedRecords().map((record) => record.id);
}

/**
 * Creates the store in `dir` through the store's own import (which keeps ids, times and recall
 * counts), and closes it. `memoryDbLost`: then deletes memory.db and its -wal and -shm, the case
 * `memhub rebuild` is for (its layer files are complete: close() caught them up).
 */
export async function seedStore(dir: string, options: { memoryDbLost?: boolean } = {}): Promise<void> {
  const now = Date.now();
  const lines = seedRecords().map((record, index) =>
    JSON.stringify({
      v: 1,
      id: record.id,
      seq: index + 1,
      content: record.content,
      tags: record.tags,
      contextPath: '/projects/api',
      layer: record.layer,
      createdAt: new Date(now - record.ageMs).toISOString(),
      recallCount: record.recallCount,
      metadata: {},
      key: record.key ?? null,
    }),
  );
  const store = await openStore({ dir });
  try {
    const report = await store.import([lines.join('\n') + '\n']);
    if (report.rejected > 0) throw new Error(`the seeded store refused records: ${JSON.stringify(report.rejections)}`);
  } finally {
    await store.close();
  }
  if (options.memoryDbLost === true) {
    for (const file of ['memory.db', 'memory.db-wal', 'memory.db-shm']) rmSync(join(dir, file), { force: true });
  }
}
