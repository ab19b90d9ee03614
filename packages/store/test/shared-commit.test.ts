import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { LockTimeoutError, lockStatus, openLock } from '@memhub/lock';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HANDOVER_MAX_CHARS } from '../src/engine/sqlite/handed-batch.js';
import { LEADER_PATIENCE_MS } from '../src/engine/sqlite/sqlite-shared-commit.js';
import { openStore, StoreDiskFullError } from '../src/index.js';
import { startLockFixture, startStoreFixture, type FixtureProcess } from './support/processes.js';
import { restoreAnotherDatabase } from './support/restore-database.js';

/**
 * Cross-process group commit: one process leads and commits for every other process that writes
 * at the same time (sqlite-shared-commit.ts). These tests run real processes and kill them with
 * SIGKILL at each step of the hand-over.
 */
let dir: string;
const children: FixtureProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-shared-commit-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited();
  }
  rmSync(dir, { recursive: true, force: true });
});

function start(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): FixtureProcess {
  const child = startStoreFixture(name, args, env);
  children.push(child);
  return child;
}

function inspect<T>(query: string): T[] {
  const db = new Database(join(dir, 'memory.db'), { readonly: true });
  try {
    return db.prepare(query).all() as T[];
  } finally {
    db.close();
  }
}

async function waitUntilStopped(child: FixtureProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'T') {
    if (Date.now() > deadline) throw new Error(`pid ${child.pid} never stopped:\n${child.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const socketPath = () => join(dir, 'memory.db.leader.sock');

/**
 * A scripted writer that leads, with its socket open, and a follower ready to write: the leader
 * writes first (and takes the lease), another process commits on its own (nobody listens yet),
 * and the leader's next commit sees that and opens its socket. All within the leader's lead
 * window; then the leader keeps writing, so that it leads however slowly the test goes on, unless
 * `keepalive` is false (the test then goes on within the second).
 */
async function startListeningLeader(
  leaderEnv: NodeJS.ProcessEnv = {},
  leaderOptions: object = {},
  followerEnv: NodeJS.ProcessEnv = {},
  { keepalive = true, followerOptions = {} }: { readonly keepalive?: boolean; readonly followerOptions?: object } = {},
): Promise<{ leader: FixtureProcess; follower: FixtureProcess }> {
  const leader = start('scripted-writer.ts', [dir, JSON.stringify(leaderOptions)], leaderEnv);
  const other = start('scripted-writer.ts', [dir]);
  const follower = start('scripted-writer.ts', [dir, JSON.stringify(followerOptions)], followerEnv);
  await Promise.all([leader.waitForLine('opened'), other.waitForLine('opened'), follower.waitForLine('opened')]);
  leader.send('write 1 lead-first');
  await leader.waitForLine('done lead-first');
  other.send('write 1 other-first');
  await other.waitForLine('done other-first');
  leader.send('write 1 lead-second');
  await leader.waitForLine('done lead-second');
  if (keepalive) leader.send('keepalive');
  await waitUntilListening(leader);
  return { leader, follower };
}

/** Waits until `leader` holds the leader lease and the leader socket is open. */
async function waitUntilListening(leader: FixtureProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (statSync(socketPath(), { throwIfNoEntry: false })?.isSocket() !== true || lockStatus(join(dir, 'memory.db.leader.lock')).holders[0]?.pid !== leader.pid) {
    if (Date.now() > deadline) throw new Error(`pid ${leader.pid} never led with its socket open`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Lets a leader blocked by `block <released>` go on, then has it write: its next writes are still
 * committed, and the follower's batch 'during' (decided while it was blocked) is in the store once.
 */
async function releaseAndResume(leader: FixtureProcess, released: string): Promise<void> {
  writeFileSync(released, '');
  await leader.waitForLine('unblocked');
  leader.send('write 1 resumed');
  expect(await Promise.race([leader.waitForLine('done resumed', 20_000), leader.waitForLine('error resumed', 20_000)])).toBe('done resumed');
  const contents = inspect<{ content: string }>('SELECT content FROM records').map((row) => row.content);
  expect(contents.filter((content) => content === 'during 0')).toHaveLength(1);
  expect(contents).toContain('resumed 0');
}

describe('one process commits for the others', () => {
  it('a process that writes alone leads without opening a socket', async () => {
    const store = await openStore({ dir });
    for (let index = 0; index < 50; index += 1) await store.remember({ content: `alone ${index}` });
    expect(statSync(socketPath(), { throwIfNoEntry: false })).toBeUndefined();
    expect((await store.stats()).handover).toEqual({ leading: true, committedForOthers: 0, handedOver: 0, unanswered: 0 });
    await store.close();
  });

  it('stats().handover: the leader counts the batches it committed for other processes, a follower those it handed over', async () => {
    const other = start('scripted-writer.ts', [dir]);
    await other.waitForLine('opened');
    const store = await openStore({ dir });
    await store.remember({ content: 'lead first' });
    // Writes of its own keep this process leading however slowly the test goes on (a leader with
    // nothing to do for a second steps down, and the other process would take the lease).
    const keepalive = setInterval(() => void store.remember({ content: 'keepalive' }).catch(() => {}), 50);
    try {
      // Nobody listens yet: the other process commits on its own, and the leader's next commit sees it.
      other.send('write 1 other-first');
      await other.waitForLine('done other-first');
      await store.remember({ content: 'lead second' });
      const deadline = Date.now() + 20_000;
      while (
        statSync(socketPath(), { throwIfNoEntry: false })?.isSocket() !== true ||
        lockStatus(join(dir, 'memory.db.leader.lock')).holders[0]?.pid !== process.pid
      ) {
        if (Date.now() > deadline) throw new Error('this process never led with its socket open');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      other.send('write 3 handed');
      await other.waitForLine('done handed');
      other.send('stats');
      const followerStats = JSON.parse((await other.waitForLine('stats ')).slice('stats '.length)) as { handover: unknown };
      expect(followerStats.handover).toMatchObject({ leading: false, committedForOthers: 0, unanswered: 0 });
      expect((followerStats.handover as { handedOver: number }).handedOver).toBeGreaterThanOrEqual(1);
      const leaderStats = (await store.stats()).handover;
      expect(leaderStats).toMatchObject({ leading: true, handedOver: 0, unanswered: 0 });
      expect(leaderStats?.committedForOthers).toBe((followerStats.handover as { handedOver: number }).handedOver);
    } finally {
      clearInterval(keepalive);
    }
    await store.close();
  });

  it('8 processes x 500 remember() one at a time with idempotency keys, half shared: one record per key, every caller answered with it', async () => {
    const writers = Array.from({ length: 8 }, (_, index) => start('keyed-writer.ts', [dir, '500', `w${index}`]));
    await Promise.all(writers.map((writer) => writer.waitForLine('ready')));
    for (const writer of writers) writer.send('go');
    const answers = await Promise.all(
      writers.map(async (writer) => {
        const line = await Promise.race([writer.waitForLine('done', 120_000), writer.waitForLine('error', 120_000)]);
        expect(line, writer.stderr).toMatch(/^done /);
        return JSON.parse(line.slice('done '.length)) as Record<string, string>;
      }),
    );
    const rows = inspect<{ key: string; id: string }>('SELECT idempotency_key AS key, id FROM records');
    expect(rows).toHaveLength(250 + 8 * 250);
    const idOfKey = new Map(rows.map((row) => [row.key, row.id]));
    expect(idOfKey.size).toBe(rows.length);
    for (const answer of answers) {
      for (const [key, id] of Object.entries(answer)) expect(id, key).toBe(idOfKey.get(key));
    }
    expect(inspect('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    expect(inspect<{ n: number }>('SELECT count(*) AS n FROM handed_batches')[0]?.n, 'some batches were handed to a leader').toBeGreaterThan(0);
  });

  it('read-your-writes across processes: a word remembered in one is found by the next, 1,000 times', async () => {
    const ring = Array.from({ length: 4 }, () => start('ring-member.ts', [dir]));
    await Promise.all(ring.map((member) => member.waitForLine('opened')));
    const lane = async (from: number) => {
      for (let round = 0; round < 250; round += 1) {
        const word = `w${from}x${round}q`;
        const writer = ring[from] as FixtureProcess;
        const reader = ring[(from + 1) % ring.length] as FixtureProcess;
        writer.send(`remember ${word}`);
        await writer.waitForLine(`remembered ${word}`);
        reader.send(`recall ${word}`);
        expect(await reader.waitForLine(`found ${word} `)).toBe(`found ${word} 1`);
      }
    };
    await Promise.all(ring.map((_, index) => lane(index)));
    for (const member of ring) member.send('close');
    await Promise.all(ring.map((member) => member.waitForLine('closed')));
    expect(inspect<{ n: number }>('SELECT count(*) AS n FROM records')[0]?.n).toBe(1_000);
  });

  it('a leader whose thread was blocked past its followers\' patience goes on writing: a batch taken back before its round is passed over, and the next round still runs', async () => {
    // The follower hands its batch over, gets no answer (the leader's thread is blocked) and takes
    // it back: when the leader's thread runs again, it reads the batch and its cancel at once, and
    // the round scheduled for the batch finds nothing to write. The leader's next writes must
    // still be committed (they once waited for that empty round forever).
    // No keepalive: no round of the leader's own may be running when the batch and its cancel arrive.
    const { leader, follower: impatient } = await startListeningLeader({}, {}, {}, { keepalive: false, followerOptions: { lockTimeoutMs: 100 } });
    const released = join(dir, 'release-leader');
    leader.send(`block ${released}`);
    await leader.waitForLine('blocking');
    impatient.send('write 1 during');
    expect(await Promise.race([impatient.waitForLine('done during'), impatient.waitForLine('error during')])).toBe('done during');
    await releaseAndResume(leader, released);
  });

  it('a leader whose thread is held by other work of its process holds its followers up for two patiences, not for as long as that work lasts', async () => {
    // An agent's own synchronous code (a tokenizer, a large JSON.parse) blocks the leader's thread:
    // its socket takes the batch, and nothing answers. The follower asks for the batch back, gets
    // no answer to that either, and commits the batch itself under the lock, while the leader's
    // thread is still held; the leader, once it runs again, passes the batch over.
    const { leader, follower } = await startListeningLeader({}, {}, {}, { keepalive: false });
    const released = join(dir, 'release-leader');
    leader.send(`block ${released}`);
    await leader.waitForLine('blocking');
    let releasedEarly = false;
    const release = setTimeout(() => {
      releasedEarly = true;
      writeFileSync(released, '');
    }, 6 * LEADER_PATIENCE_MS);
    follower.send('write 1 during');
    const outcome = await Promise.race([follower.waitForLine('done during'), follower.waitForLine('error during')]);
    clearTimeout(release);
    expect(outcome).toBe('done during');
    expect(releasedEarly, 'the follower waited for the leader\'s thread instead of deciding on its own').toBe(false);
    await releaseAndResume(leader, released);
  });

  it('a batch too large to hand over is committed by its own process, under the write lock; the next small one is handed over again', async () => {
    // One JSON line a batch: 600 records of a MiB each once made a line longer than V8's longest string.
    const { follower } = await startListeningLeader();
    follower.send('close');
    await follower.waitForLine('closed');
    const store = await openStore({ dir });
    await store.remember({ content: 'small, handed over' });
    expect((await store.stats()).handover).toMatchObject({ leading: false, handedOver: 1, unanswered: 0 });
    const large = 'x'.repeat(1024 * 1024 - 16);
    const count = Math.floor(HANDOVER_MAX_CHARS / large.length) + 1;
    const records = await store.rememberMany(Array.from({ length: count }, (_, index) => ({ content: `${index} ${large}` })));
    expect((await store.stats()).handover).toMatchObject({ handedOver: 1, unanswered: 0 });
    await store.remember({ content: 'small again' });
    expect((await store.stats()).handover).toMatchObject({ handedOver: 2, unanswered: 0 });
    for (const record of records) expect((await store.get(record.id))?.content).toBe(record.content);
    await store.close();
  });

  it('flush() in a process whose writes the leader committed brings them into the layer files, whether or not the leader has appended them yet', async () => {
    // The leader appends a round's lines in its next batch, up to 20 ms after its commit; frozen
    // right after answering, it appends nothing, and flush() here must not depend on it.
    const { leader, follower } = await startListeningLeader({}, {}, {}, { keepalive: false });
    follower.send('close');
    await follower.waitForLine('closed');
    const store = await openStore({ dir });
    try {
      const record = await store.remember({ content: 'handed over, then flushed' });
      leader.kill('SIGSTOP');
      await waitUntilStopped(leader);
      expect((await store.stats()).handover?.handedOver).toBe(1);
      await store.flush();
      const lines = readFileSync(join(dir, 'layers', 'application.jsonl'), 'utf8').trim().split('\n');
      expect(lines.filter((line) => line.includes(record.id))).toHaveLength(1);
    } finally {
      leader.kill('SIGCONT');
      await store.close();
    }
    // The leader, resumed, finds the lines there and does not append them twice.
    leader.send('write 1 resumed');
    await leader.waitForLine('done resumed');
    leader.send('close');
    await leader.waitForLine('closed');
    const report = await (async () => {
      const reopened = await openStore({ dir });
      try {
        return await reopened.verify();
      } finally {
        await reopened.close();
      }
    })();
    expect(report.problems).toEqual([]);
  });

  it('a follower whose leader closed leads from its next writes on, and commits for the others in turn', async () => {
    // A follower that its leader answers does not try the lease at every write: it must still
    // find out, at its first write that reaches nobody, that the lease is free, and take it.
    const { leader, follower } = await startListeningLeader();
    follower.send('write 5 handed');
    await follower.waitForLine('done handed');
    const handedBefore = inspect<{ n: number }>('SELECT count(*) AS n FROM handed_batches')[0]?.n ?? 0;
    expect(handedBefore, 'the follower handed its batch to the leader').toBeGreaterThan(0);
    leader.send('close');
    await leader.waitForLine('closed');
    for (const label of ['alone-1', 'alone-2']) {
      follower.send(`write 1 ${label}`);
      await follower.waitForLine(`done ${label}`);
    }
    expect(lockStatus(join(dir, 'memory.db.leader.lock')).holders.map((holder) => holder.pid)).toEqual([follower.pid]);
    // A third process writes (on its own: nobody listens yet); the new leader, kept leading by a
    // write every 50 ms, sees it at its next commit and opens its socket, and the third process's
    // next batch goes to it.
    follower.send('keepalive');
    const third = start('scripted-writer.ts', [dir]);
    await third.waitForLine('opened');
    third.send('write 1 third-first');
    await third.waitForLine('done third-first');
    await waitUntilListening(follower);
    third.send('write 3 third-handed');
    await third.waitForLine('done third-handed');
    expect(inspect<{ n: number }>('SELECT count(*) AS n FROM handed_batches')[0]?.n).toBeGreaterThan(handedBefore);
    expect(inspect<{ n: number }>(`SELECT count(*) AS n FROM records WHERE content LIKE 'third-handed %'`)[0]?.n).toBe(3);
  });
});

describe('a leader whose memory.db was replaced', () => {
  it('hands its followers\' batches back and steps down: a process that opened the database now at the path writes to it, and leads', async () => {
    // The leader keeps writing (its keepalive), so without stepping down it would stay active and
    // fail every batch handed to it for as long as anyone wrote.
    const { leader, follower } = await startListeningLeader({}, { mirror: false });
    follower.send('close');
    await follower.waitForLine('closed');
    // A backup of another store restored in its place, memory.db alone: the lock files stay.
    await restoreAnotherDatabase(dir, 'from the backup');
    const fresh = await openStore({ dir, lockTimeoutMs: 20_000 });
    const records = await Promise.all(Array.from({ length: 5 }, (_, index) => fresh.remember({ content: `after the restore ${index}` })));
    for (let index = 0; index < 20; index += 1) await fresh.remember({ content: `one at a time ${index}` });
    expect((await fresh.recall({ limit: 100 })).map((record) => record.content).sort()).toEqual(
      ['from the backup', ...records.map((record) => record.content), ...Array.from({ length: 20 }, (_, index) => `one at a time ${index}`)].sort(),
    );
    // The old leader let go of the lease, and the process that opened the new database took it.
    expect((await fresh.stats()).handover?.leading).toBe(true);
    expect(lockStatus(join(dir, 'memory.db.leader.lock')).holders.map((holder) => holder.pid)).toEqual([process.pid]);
    // The old leader's own writes are refused, not sent to the file it still has open.
    leader.send('write 1 stale');
    expect(await leader.waitForLine('error stale')).toMatch(/StoreReplacedError/);
    await fresh.close();
  });
});

/**
 * A leader played by this test: it holds the lease, listens on the leader socket, and answers
 * every batch handed to it with `answer(id)`. `stop()` ends its connections and lets the lease go.
 */
async function startScriptedLeader(answer: (id: string) => object): Promise<{ readonly batches: () => number; readonly stop: () => Promise<void> }> {
  const lease = openLock(join(dir, 'memory.db.leader.lock')).tryAcquire({ purpose: 'memhub write leader' });
  expect(lease).not.toBeNull();
  let batches = 0;
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n')) {
        const message = JSON.parse(text.slice(0, newline)) as { batch?: { id?: string } };
        text = text.slice(newline + 1);
        if (message.batch?.id === undefined) continue;
        batches += 1;
        socket.write(`${JSON.stringify(answer(message.batch.id))}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath(), resolve));
  return {
    batches: () => batches,
    stop: async () => {
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      lease?.release();
    },
  };
}

describe('a leader that cannot read the batches handed to it', () => {
  it('(another version of memhub) applies none of them: the process that handed them commits them itself', async () => {
    await (await openStore({ dir })).close();
    // A leader of another batch format: it answers every batch as a leader does when it cannot decode one.
    const leader = await startScriptedLeader((id) => ({ id, error: { code: 'ERR_MEMHUB_COMPATIBILITY', message: 'the leader could not read this batch: batch format 2, expected 1' } }));
    const store = await openStore({ dir });
    try {
      const first = await store.remember({ content: 'refused by the leader, written here' });
      const more = await Promise.all(Array.from({ length: 5 }, (_, index) => store.remember({ content: `then ${index}` })));
      expect(leader.batches()).toBeGreaterThanOrEqual(1);
      for (const record of [first, ...more]) expect((await store.get(record.id))?.content).toBe(record.content);
      expect((await store.stats()).handover).toMatchObject({ leading: false, unanswered: 0 });
    } finally {
      await store.close();
      await leader.stop();
    }
    const contents = inspect<{ content: string }>('SELECT content FROM records').map((row) => row.content);
    expect(contents.sort()).toEqual(['refused by the leader, written here', ...Array.from({ length: 5 }, (_, index) => `then ${index}`)].sort());
  });
});

describe('a batch the leader failed', () => {
  it('fails in the process that handed it with the error class a process on its own would throw, nothing written', async () => {
    await (await openStore({ dir })).close();
    const leader = await startScriptedLeader((id) => ({ id, error: { code: 'ERR_MEMHUB_DISK_FULL', message: `The disk holding ${dir} is full: the change was not made (free some space and retry)` } }));
    const store = await openStore({ dir });
    try {
      const failure = await store.remember({ content: 'on a full disk' }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreDiskFullError);
      expect(failure).toMatchObject({ code: 'ERR_MEMHUB_DISK_FULL', name: 'StoreDiskFullError' });
      expect((failure as Error).message).toMatch(/is full/);
      expect(leader.batches()).toBe(1);
    } finally {
      await store.close();
      await leader.stop();
    }
    expect(inspect('SELECT seq FROM records')).toEqual([]);
  });
});

describe('a caller that times out is told whether its records were written', () => {
  it('while another process holds the write lock and this one leads: not written, and never written later', async () => {
    await (await openStore({ dir })).close();
    const holder = startLockFixture('hold-until-told.ts', [join(dir, 'memory.db.lock'), 'test holder']);
    children.push(holder);
    await holder.waitForLine('held');
    const store = await openStore({ dir, lockTimeoutMs: 300 });
    const failure = (await store.remember({ content: 'never to be written' }).catch((error: unknown) => error)) as LockTimeoutError & { written?: unknown };
    expect(failure).toBeInstanceOf(LockTimeoutError);
    expect(failure.written).toBe(false);
    holder.send('release');
    await holder.waitForLine('released');
    await store.remember({ content: 'written after the release' });
    await store.close();
    expect(inspect<{ content: string }>('SELECT content FROM records').map((row) => row.content)).toEqual(['written after the release']);
  });

  it('while the leader waits for the lock another process holds: the follower takes its batch back, not written, never written later', async () => {
    const { leader } = await startListeningLeader();
    const holder = startLockFixture('hold-until-told.ts', [join(dir, 'memory.db.lock'), 'test holder']);
    children.push(holder);
    await holder.waitForLine('held');
    const store = await openStore({ dir, lockTimeoutMs: 300 });
    const failure = (await store.remember({ content: 'taken back' }).catch((error: unknown) => error)) as LockTimeoutError & { written?: unknown };
    expect(failure).toBeInstanceOf(LockTimeoutError);
    expect(failure.written).toBe(false);
    holder.send('release');
    await holder.waitForLine('released');
    // The leader goes on: its next commit must not carry the batch it gave back.
    leader.send('write 1 after-release');
    await leader.waitForLine('done after-release');
    await store.close();
    const contents = inspect<{ content: string }>('SELECT content FROM records').map((row) => row.content);
    expect(contents).not.toContain('taken back');
    expect(contents).toContain('after-release 0');
  });
});

describe('kill -9 at each step of the hand-over: every acknowledged record exactly once, no batch twice', () => {
  it.each([
    ['the leader, after it received a batch', 'leader-after-receive'],
    ['the leader, inside the transaction that carries a handed batch', 'leader-before-commit'],
    ['the leader, after it committed a handed batch and before it answered', 'leader-after-commit'],
  ])('%s', async (_, fault) => {
    const { leader, follower } = await startListeningLeader({ MEMHUB_FAULT: fault });
    follower.send('write 20 handed');
    expect(await leader.exited()).toBe('SIGKILL');
    await follower.waitForLine('done handed', 30_000);
    const acknowledged = follower.lines.filter((line) => line.startsWith('ack handed ')).map((line) => line.split(' ')[2]);
    expect(acknowledged).toHaveLength(20);
    const rows = inspect<{ id: string; content: string }>(`SELECT id, content FROM records WHERE content LIKE 'handed %'`);
    expect(rows.map((row) => row.id).sort()).toEqual([...acknowledged].sort());
    expect(new Set(rows.map((row) => row.content)).size).toBe(20);
    follower.send('close');
    await follower.waitForLine('closed');
    const store = await openStore({ dir });
    expect((await store.verify()).problems).toEqual([]);
    await store.close();
    expect(inspect('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  });

  it('a follower killed right after it handed its batch: the leader commits it once', async () => {
    const { leader, follower } = await startListeningLeader({}, {}, { MEMHUB_FAULT: 'handoff-after-send' });
    follower.send('write 20 orphaned');
    expect(await follower.exited()).toBe('SIGKILL');
    // The leader answers nobody, and goes on.
    leader.send('write 1 after');
    await leader.waitForLine('done after');
    const contents = inspect<{ content: string }>(`SELECT content FROM records WHERE content LIKE 'orphaned %'`).map((row) => row.content);
    expect(contents.length === 0 || contents.length === 20, `all or nothing: ${contents.length}`).toBe(true);
    expect(new Set(contents).size).toBe(contents.length);
  });

  it('a leader frozen with SIGSTOP holds nobody up for long: its followers commit on their own, and it passes their batches over when it goes on', async () => {
    const { leader } = await startListeningLeader({}, { lockTimeoutMs: 20_000 });
    leader.kill('SIGSTOP');
    await waitUntilStopped(leader);
    const store = await openStore({ dir, lockTimeoutMs: 20_000 });
    const started = performance.now();
    const first = await store.remember({ content: 'while the leader is frozen' });
    const more = await Promise.all(Array.from({ length: 10 }, (_, index) => store.remember({ content: `more ${index}` })));
    expect(performance.now() - started, 'well before lockTimeoutMs').toBeLessThan(20_000 / 4);
    // Its first write found the leader silent; the next ones, within LEADER_DISTRUST_MS, were committed here.
    const handover = (await store.stats()).handover;
    expect(handover).toMatchObject({ leading: false, committedForOthers: 0 });
    expect(handover?.unanswered).toBeGreaterThanOrEqual(1);
    expect(handover?.unanswered).toBe(handover?.handedOver);
    leader.kill('SIGCONT');
    leader.send('write 1 resumed');
    await leader.waitForLine('done resumed');
    const contents = inspect<{ content: string }>('SELECT content FROM records').map((row) => row.content);
    expect(contents.filter((content) => content === 'while the leader is frozen')).toHaveLength(1);
    for (const record of [first, ...more]) expect(await store.get(record.id)).not.toBeNull();
    expect(new Set(contents).size).toBe(contents.length);
    await store.close();
  });
});
