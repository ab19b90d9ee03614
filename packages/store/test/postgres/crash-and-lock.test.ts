import { hostname } from 'node:os';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LockTimeoutError } from '@memhub/lock';
import { openStore, type Store } from '../../src/index.js';
import { startStoreFixture, type FixtureProcess } from '../support/processes.js';
import { adminQuery, describePostgres, dropSchema, freshSchemaName, postgres } from '../support/postgres.js';

let schema: string;
const children: FixtureProcess[] = [];
const stores: Store[] = [];

async function open(lockTimeoutMs: number): Promise<Store> {
  const store = await openStore({ url: postgres.url, schema, lockTimeoutMs });
  stores.push(store);
  return store;
}

/** The server's sessions of a process (by the application_name memhub gives them), and whether one holds an advisory lock. */
async function sessionsOf(pid: number): Promise<{ sessions: number; holdingLock: number }> {
  const [row] = await adminQuery<{ sessions: number; holding_lock: number }>(
    `SELECT count(DISTINCT a.pid)::int AS sessions,
            count(l.pid)::int AS holding_lock
       FROM pg_stat_activity a
       LEFT JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted
      WHERE a.application_name = $1`,
    [`memhub ${pid}@${hostname()}`.slice(0, 63)],
  );
  return { sessions: row!.sessions, holdingLock: row!.holding_lock };
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describePostgres('a PostgreSQL writer killed with SIGKILL in the middle of its transaction', () => {
  beforeEach(() => {
    schema = freshSchemaName();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    for (const store of stores.splice(0)) await store.close().catch(() => {});
    await dropSchema(schema);
  });

  it('loses nothing it acknowledged and leaves nothing half-written; the server frees the lock and the others carry on', async () => {
    const store = await open(20_000);
    // The writer's 40th transaction stops after its INSERT, before COMMIT, holding the write lock.
    const writer = startStoreFixture('acknowledging-writer.ts', [JSON.stringify({ url: postgres.url, schema })], { MEMHUB_FAULT: 'pg-before-commit:40' });
    children.push(writer);
    await writer.waitForLine('ready');
    await waitUntil(async () => (await sessionsOf(writer.pid)).holdingLock > 0 && writer.stderr.includes('pg-before-commit'), 30_000, 'the writer holds the lock in its fault');
    const acknowledged = writer.lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4));
    expect(acknowledged.length).toBeGreaterThanOrEqual(39);

    // While it holds the lock, another store object that will not wait long is told who holds it.
    const impatient = await open(300);
    const refused = await impatient.remember({ content: 'cannot wait' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(LockTimeoutError);
    expect(refused).toMatchObject({ code: 'ERR_LOCK_TIMEOUT', holders: [{ pid: writer.pid, host: hostname(), purpose: 'memhub write transaction' }] });
    expect((refused as Error).message).toContain(`memhub process ${writer.pid} on ${hostname()}`);

    // A patient writer waits for it...
    let waited = false;
    const waiting = store.remember({ content: 'written after the crash' }).finally(() => {
      waited = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(waited, 'the write went ahead while another process held the lock').toBe(false);

    // ...and goes on as soon as the server sees the writer die.
    writer.kill('SIGKILL');
    await writer.exited();
    const killedAt = performance.now();
    const after = await waiting;
    expect(performance.now() - killedAt, 'the dead writer held the others up').toBeLessThan(5_000);
    await waitUntil(async () => (await sessionsOf(writer.pid)).sessions === 0, 5_000, 'the server ends the dead writer\'s sessions');

    for (const id of acknowledged) expect(await store.get(id), `acknowledged record ${id}`).not.toBeNull();
    // Exactly the acknowledged ones and the new one: nothing of the transaction that never committed.
    expect((await store.stats()).records).toBe(acknowledged.length + 1);
    expect(after.seq).toBe(acknowledged.length + 1);
    expect((await store.verify()).ok).toBe(true);
    expect((await impatient.remember({ content: 'no longer refused' })).seq).toBe(acknowledged.length + 2);
  });
});
