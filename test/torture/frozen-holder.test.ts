import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LockTimeoutError, lockStatus } from '@memhub/lock';
import { openStore, type Store } from '@memhub/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FixtureProcess } from '../../packages/lock/test/support/processes.js';

const VICTIM = fileURLToPath(new URL('./fixtures/fault-victim.ts', import.meta.url));

let dir: string;
const children: FixtureProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-frozen-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The process state letter from /proc (T: stopped). */
function processState(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '?';
}

/** Waits until the process is stopped (SIGSTOP has taken effect). */
async function waitUntilStopped(child: FixtureProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (processState(child.pid) !== 'T') {
    if (Date.now() > deadline) throw new Error(`pid ${child.pid} never froze:\n${child.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A store writer that freezes itself (SIGSTOP) while it holds the store's write lock, its transaction not begun. */
async function startFrozenWriter(): Promise<FixtureProcess> {
  const writer = new FixtureProcess(VICTIM, [dir, 'write'], { MEMHUB_FAULT: 'before-begin', MEMHUB_FAULT_ACTION: 'stop' });
  children.push(writer);
  await writer.waitForLine('opened');
  await waitUntilStopped(writer);
  return writer;
}

describe('a writer frozen with SIGSTOP while it holds the write lock', () => {
  it('others open the store, get a LockTimeoutError that names it, and carry on once it is resumed', async () => {
    const seed = await openStore({ dir });
    await seed.remember({ content: 'before the freeze' });
    await seed.close();
    const frozen = await startFrozenWriter();
    expect(lockStatus(join(dir, 'memory.db.lock')).holders.map((holder) => holder.pid)).toEqual([frozen.pid]);

    // Opening needs no lock, and reads go on.
    const store = await openStore({ dir, lockTimeoutMs: 1_000 });
    expect(await store.recall({ query: 'freeze' })).toHaveLength(1);
    const failure = await store.remember({ content: 'waits for the frozen writer' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LockTimeoutError);
    expect((failure as Error).message).toContain(String(frozen.pid));
    expect((failure as Error).message).toContain('memhub write transaction');

    frozen.kill('SIGCONT');
    const written = await store.remember({ content: 'after the writer was resumed' });
    await frozen.waitForLine('ack', 20_000);
    expect(await store.get(written.id)).not.toBeNull();
    await store.close();
  });

  it('others carry on at once when it is killed instead', async () => {
    const frozen = await startFrozenWriter();
    const store = await openStore({ dir, lockTimeoutMs: 1_000 });
    await expect(store.remember({ content: 'blocked' })).rejects.toBeInstanceOf(LockTimeoutError);
    frozen.kill('SIGKILL');
    await frozen.exited();
    const written = await store.remember({ content: 'after the writer was killed' });
    expect(await store.get(written.id)).not.toBeNull();
    expect((await store.verify()).problems).toEqual([]);
    await store.close();
  });
});

/** A process that takes a layer's writer lock (`layers/<layer>.jsonl.lock`), then is frozen with SIGSTOP while it holds it. */
async function startFrozenLayerLockHolder(layer: string): Promise<FixtureProcess> {
  const holder = new FixtureProcess('hold-until-told.ts', [join(dir, 'layers', `${layer}.jsonl.lock`), 'frozen mirror appender']);
  children.push(holder);
  await holder.waitForLine('held');
  holder.kill('SIGSTOP');
  await waitUntilStopped(holder);
  return holder;
}

interface LogEntry {
  readonly details: Record<string, unknown>;
  readonly message: string;
}

/** The warnings about giving up on a layer's lock. */
const giveUpWarnings = (warnings: readonly LogEntry[]) => warnings.filter((warning) => warning.message.includes("layer mirror's writer lock is held"));

/** Complete lines of a layer file, parsed. */
function layerLines(layer: string): { seq: number; op: string; record?: { id: string } }[] {
  const text = readFileSync(join(dir, 'layers', `${layer}.jsonl`), 'utf8');
  return text === '' ? [] : text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as { seq: number; op: string; record?: { id: string } });
}

/**
 * Writes 5 records one after another, then 20 in one batch, timing each call: with the layer's
 * lock frozen, each must resolve well before lockTimeoutMs (the wait it used to sit through).
 */
async function writeWhileFrozen(store: Store, lockTimeoutMs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < 5; index += 1) {
    const started = performance.now();
    ids.push((await store.remember({ content: `written while the layer lock is frozen ${index}` })).id);
    expect(performance.now() - started).toBeLessThan(lockTimeoutMs / 4);
  }
  const started = performance.now();
  const batch = await Promise.all(Array.from({ length: 20 }, (_, index) => store.remember({ content: `batch while frozen ${index}` })));
  expect(performance.now() - started).toBeLessThan(lockTimeoutMs / 4);
  return [...ids, ...batch.map((record) => record.id)];
}

describe("a process frozen with SIGSTOP while it holds a layer's mirror lock", () => {
  const lockTimeoutMs = 20_000;

  it('remember() resolves long before lockTimeoutMs, the lines wait in the journal (one warning for the hold), and the mirror catches up once it is resumed', async () => {
    const seed = await openStore({ dir });
    await seed.remember({ content: 'before the freeze' });
    await seed.close();
    const holder = await startFrozenLayerLockHolder('application');
    const lockPath = join(dir, 'layers', 'application.jsonl.lock');
    expect(lockStatus(lockPath).holders.map((held) => held.pid)).toEqual([holder.pid]);

    const warnings: LogEntry[] = [];
    const debugs: LogEntry[] = [];
    const logger = {
      warn: (details: Record<string, unknown>, message: string) => warnings.push({ details, message }),
      debug: (details: Record<string, unknown>, message: string) => debugs.push({ details, message }),
    };
    const store = await openStore({ dir, lockTimeoutMs, logger });
    const ids = await writeWhileFrozen(store, lockTimeoutMs);
    // The lines owed to the file are appended in batches after the writes resolve; flush() makes
    // one more append now, which gives up too.
    await store.flush();
    // Committed: every record is in the database; the file still ends where it did.
    for (const id of ids) expect(await store.get(id)).not.toBeNull();
    expect(layerLines('application')).toHaveLength(1);
    // The catch-up on open and every batched append gave up (how many appends there were depends on
    // how the writes fell into batches); one warning for the one hold, when it made the process
    // give up a second time (the first could have been a busy moment).
    const [held] = (await store.stats()).mirror!;
    expect(held).toMatchObject({ layer: 'application', linesAppended: 0 });
    expect(held!.appendsDeferred).toBeGreaterThanOrEqual(2);
    expect(giveUpWarnings(warnings)).toHaveLength(1);
    expect(debugs.filter((debug) => debug.message.includes("layer mirror's writer lock was busy"))).toHaveLength(1);
    expect(giveUpWarnings(warnings)[0]!.details['holders']).toEqual([expect.objectContaining({ pid: holder.pid })]);

    // Those who need the file as it is wait for the lock in full: verify() does not skip the layer.
    const impatient = await openStore({ dir, lockTimeoutMs: 500 });
    const failure = await impatient.verify().catch((error: unknown) => error);
    await impatient.close();
    expect(failure).toBeInstanceOf(LockTimeoutError);
    expect((failure as Error).message).toContain(String(holder.pid));

    holder.kill('SIGCONT');
    holder.send('release');
    await holder.waitForLine('released');
    // The next one to take the lock (here a lookup) appends what was left, in order, once.
    const last = ids.at(-1)!;
    expect((await store.readFromMirror('application', last)).record).toEqual(await store.get(last));
    const lines = layerLines('application');
    expect(lines).toHaveLength(26);
    expect(new Set(lines.map((line) => line.record?.id)).size).toBe(26);
    expect(lines.slice(1).map((line) => line.record?.id).sort()).toEqual([...ids].sort());
    const report = await store.verify();
    expect(report.problems).toEqual([]);
    expect(report.layers).toEqual([expect.objectContaining({ layer: 'application', records: 26, mirrored: 26, missingCount: 0, extraCount: 0 })]);
    expect(giveUpWarnings(warnings)).toHaveLength(1);
    await store.close();
  });

  it('killed instead: the next verify() catches the mirror up and is clean, with exact counts', async () => {
    const seed = await openStore({ dir });
    await seed.rememberMany([{ content: 'before the freeze' }, { content: 'a note', layer: 'notes' }]);
    await seed.close();
    const holder = await startFrozenLayerLockHolder('application');

    const store = await openStore({ dir, lockTimeoutMs });
    const ids = await writeWhileFrozen(store, lockTimeoutMs);
    // Another layer is not held up past the brief wait for the frozen one's lock.
    await store.remember({ content: 'another note', layer: 'notes' });
    await store.flush();
    expect(layerLines('notes')).toHaveLength(2);
    expect(layerLines('application')).toHaveLength(1);

    holder.kill('SIGKILL');
    await holder.exited();
    const report = await store.verify();
    expect(report.problems).toEqual([]);
    expect(report.layers.map((layer) => [layer.layer, layer.records, layer.mirrored])).toEqual([
      ['application', 26, 26],
      ['notes', 2, 2],
    ]);
    expect(layerLines('application').slice(1).map((line) => line.record?.id).sort()).toEqual([...ids].sort());
    const application = (await store.stats()).mirror!.find((layer) => layer.layer === 'application');
    expect(application).toMatchObject({ linesAppended: 25 });
    expect(application!.appendsDeferred).toBeGreaterThanOrEqual(2);
    await store.close();
  });
});
