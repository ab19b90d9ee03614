import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import type { MemoryRecord, RememberedRecord, RepairReport, VerifyReport } from '@memhub/store';
import type { StatsReport, StoreLockReport } from '../src/index.js';
import { FixtureProcess } from '../../lock/test/support/processes.js';
import { cleanEnvironment, cliTestWithTempFolder, type TempFolder, memhubArgs, memhubJson, recordCount, REPO_ROOT, runMemhub } from './support/memhub-process.js';

const test = cliTestWithTempFolder('memhub-cli-');

/** `--dir <the test's store>` */
const storeIn = (temp: TempFolder) => ['--dir', temp.file('store')];

// Generous timeouts: every command is a child process, and on a busy machine each start can take
// seconds. Each test has a store of its own, so they run concurrently.
describe.concurrent('every command works from a shell, and --json prints what it did', { timeout: 180_000 }, () => {
  test('remember, recall, get, forget: the record written is the record read back', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    const { created, ...remembered } = await memhubJson<RememberedRecord>([
      'remember',
      'The deploy needs Node 20',
      '--tag',
      'deploy',
      '--tag',
      'node',
      '--context-path',
      '/projects/api',
      '--key',
      'runbook-42',
      '--metadata',
      '{"source":"runbook"}',
      ...at(),
    ]);
    expect(created).toBe(true);
    expect(remembered).toMatchObject({
      content: 'The deploy needs Node 20',
      tags: ['deploy', 'node'],
      contextPath: '/projects/api',
      layer: 'application',
      key: 'runbook-42',
      metadata: { source: 'runbook' },
    });
    const fromStdin = await memhubJson<MemoryRecord>(['remember', '--stdin', '--tag', 'stdin', ...at()], { input: 'read from stdin\n' });
    expect(fromStdin.content).toBe('read from stdin');

    // The same key again writes nothing, returns the first record and says so.
    const again = await memhubJson<RememberedRecord>(['remember', 'something else', '--key', 'runbook-42', ...at()]);
    expect(again).toEqual({ ...remembered, created: false });
    const againSaid = await runMemhub(['remember', 'something else', '--key', 'runbook-42', ...at()]);
    expect(againSaid.code).toBe(0);
    expect(againSaid.stdout).toMatch(new RegExp(`^already remembered as ${remembered.id}; nothing written \\(key "runbook-42", layer application, seq 1\\)\n$`));
    expect(await recordCount(temp.file('store'))).toBe(2);

    const found = await memhubJson<MemoryRecord[]>(['recall', 'deploy node', '--tag', 'deploy', '--context-path', '/projects', '--limit', '5', ...at()]);
    expect(found.map((record) => record.id)).toEqual([remembered.id]);
    expect(found[0]!.recallCount).toBe(1);
    const recent = await memhubJson<MemoryRecord[]>(['recall', '--since', '1h', '--limit', '1', ...at()]);
    expect(recent.map((record) => record.id)).toEqual([fromStdin.id]);
    expect(await memhubJson<MemoryRecord[]>(['recall', '--until', '2000-01-01', ...at()])).toEqual([]);

    const got = await memhubJson<MemoryRecord>(['get', remembered.id, ...at()]);
    // The recall above was counted, and written when that command closed the store.
    expect(got).toEqual({ ...remembered, recallCount: 1 });

    expect(await memhubJson(['forget', remembered.id, ...at()])).toEqual({ id: remembered.id, forgotten: true });
    const gone = await runMemhub(['get', remembered.id, ...at()]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`memhub: no record with id ${remembered.id}\n`);
    const forgetAgain = await runMemhub(['forget', remembered.id, ...at()]);
    expect(forgetAgain.code).toBe(1);
    expect(forgetAgain.stderr).toContain('no record with id');
    expect(await recordCount(temp.file('store'))).toBe(1);
  });

  test('human output: aligned tables, no colour codes when stdout is not a terminal', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    const line = await runMemhub(['remember', 'a note for people', '--tag', 'human', ...at()]);
    expect(line.code).toBe(0);
    expect(line.stdout).toMatch(/^remembered [0-9a-f-]{36} \(layer application, seq 1\)\n$/);
    const table = await runMemhub(['recall', 'note', ...at()]);
    expect(table.code).toBe(0);
    const [head, row] = table.stdout.split('\n');
    expect(head).toMatch(/^id\s+created\s+layer\s+tags\s+recalls\s+content$/);
    expect(row).toContain('a note for people');
    // Columns line up: each header starts where its values start.
    expect(row!.indexOf('application')).toBe(head!.indexOf('layer'));
    expect(table.stdout).not.toContain('\x1b[');
  });

  test('archive moves records by ids, by age and by recall count, and says how many', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    const first = await memhubJson<MemoryRecord>(['remember', 'one', ...at()]);
    await memhubJson<MemoryRecord>(['remember', 'two', ...at()]);
    await memhubJson<MemoryRecord>(['remember', 'three', ...at()]);
    expect(await memhubJson(['archive', '--ids', first.id, ...at()])).toEqual({ archived: 1 });
    await memhubJson(['recall', 'two', ...at()]);
    expect(await memhubJson(['archive', '--recall-count-below', '1', ...at()])).toEqual({ archived: 1 });
    expect(await memhubJson(['archive', '--older-than', '0s', ...at()])).toEqual({ archived: 1 });
    const stats = await memhubJson<StatsReport>(['stats', ...at()]);
    expect(stats.recordsByLayer).toEqual({ archive: 3 });
    // And back: restore by id, the ids not in the archive said to be so.
    expect(await memhubJson(['restore', first.id, ...at()])).toEqual({ restored: 1 });
    const again = await runMemhub(['restore', first.id, 'no-such-id', ...at()]);
    expect(again.stdout).toBe('restored 0 records (2 not in the archive)\n');
    expect((await memhubJson<StatsReport>(['stats', ...at()])).recordsByLayer).toEqual({ application: 1, archive: 2 });
  });

  test('update writes a new version (exit 4 on a stale --if-seq), history lists them all', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    const first = await memhubJson<MemoryRecord>(['remember', 'deploys on fridays', '--key', 'deploy-day', '--tag', 'ops', ...at()]);
    const second = await memhubJson<MemoryRecord>(['update', 'deploy-day', 'deploys on mondays', '--if-seq', String(first.seq), ...at()]);
    expect(second).toMatchObject({ id: first.id, content: 'deploys on mondays', tags: ['ops'], key: 'deploy-day' });
    expect(second.seq).toBeGreaterThan(first.seq);
    const third = await memhubJson<MemoryRecord>(['update', first.id, '--clear-tags', '--metadata', '{"by":"cli"}', ...at()]);
    expect(third).toMatchObject({ content: 'deploys on mondays', tags: [], metadata: { by: 'cli' } });
    const stale = await runMemhub(['update', first.id, 'too late', '--if-seq', String(first.seq), ...at()]);
    expect(stale.code).toBe(4);
    expect(stale.stderr).toContain(`not ${first.seq}`);
    const missing = await runMemhub(['update', 'no-such-record', 'x', ...at()]);
    expect(missing.code).toBe(1);
    const bad = await runMemhub(['update', first.id, ...at()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('changes');
    const versions = await memhubJson<{ seq: number; content: string }[]>(['history', 'deploy-day', ...at()]);
    expect(versions.map((version) => [version.seq, version.content])).toEqual([
      [first.seq, 'deploys on fridays'],
      [second.seq, 'deploys on mondays'],
      [third.seq, 'deploys on mondays'],
    ]);
    const table = await runMemhub(['history', first.id, ...at()]);
    expect(table.stdout.split('\n')[0]).toMatch(/^seq\s+written\s+layer\s+tags\s+content$/);
    expect(table.stdout).toContain('deploys on fridays');
    expect((await runMemhub(['history', 'no-such-record', ...at()])).code).toBe(1);
  });

  test('remember --pin and --ttl, recall --pinned, and maintain: expired records archived, a policy applied', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    const pinned = await memhubJson<MemoryRecord>(['remember', 'the on-call rota', '--pin', ...at()]);
    expect(pinned.pinned).toBe(true);
    const brief = await memhubJson<MemoryRecord>(['remember', 'a short-lived note', '--ttl', '1ms', ...at()]);
    expect(brief.expiresAt).toBeDefined();
    const plain = await memhubJson<MemoryRecord>(['remember', 'a plain note', ...at()]);
    expect((await memhubJson<MemoryRecord[]>(['recall', '--pinned', '--no-count', ...at()])).map((record) => record.id)).toEqual([pinned.id]);
    expect((await memhubJson<MemoryRecord[]>(['list', ...at()])).map((record) => record.id)).toEqual([pinned.id, plain.id]);
    const report = await memhubJson<{ archived: number; forgotten: number; changes: { id: string; reason: string }[] }>(['maintain', ...at()]);
    expect(report).toMatchObject({ archived: 1, forgotten: 0, changes: [{ id: brief.id, reason: 'expired' }] });
    // A policy on the command line: the pinned record is never archived by one.
    const byPolicy = await runMemhub(['maintain', '--not-recalled-since', '1ms', ...at()]);
    expect(byPolicy.code).toBe(0);
    expect(byPolicy.stdout).toMatch(/^archived 1 record, forgot 0\n/);
    expect(byPolicy.stdout).toContain('not recalled for');
    expect((await memhubJson<MemoryRecord>(['get', plain.id, ...at()])).layer).toBe('archive');
    expect((await memhubJson<MemoryRecord>(['get', pinned.id, ...at()])).layer).toBe('application');
    expect((await memhubJson<MemoryRecord>(['update', pinned.id, '--unpin', '--ttl', '7d', ...at()]))).toMatchObject({ expiresAt: expect.any(String) });
    expect((await runMemhub(['remember', 'x', '--ttl', 'soon', ...at()])).code).toBe(2);
    // An age is not an expiry: "7d" would be a week ago.
    const age = await runMemhub(['remember', 'x', '--expires-at', '7d', ...at()]);
    expect(age.code).toBe(2);
    expect(age.stderr).toContain('--ttl 7d');
    expect((await memhubJson<MemoryRecord>(['remember', 'x', '--expires-at', '2999-01-01T00:00:00Z', ...at()])).expiresAt).toBe('2999-01-01T00:00:00.000Z');
    expect((await runMemhub(['update', pinned.id, '--pin', '--unpin', ...at()])).code).toBe(2);
  });

  test('list and recall --no-count read without counting; recall counts', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    for (const content of ['older note', 'newer note']) await memhubJson(['remember', content, '--tag', 'n', ...at()]);
    await memhubJson(['remember', 'elsewhere', '--layer', 'notes', ...at()]);
    const listed = await memhubJson<MemoryRecord[]>(['list', '--tag', 'n', ...at()]);
    expect(listed.map((record) => [record.content, record.recallCount])).toEqual([
      ['newer note', 0],
      ['older note', 0],
    ]);
    expect((await memhubJson<MemoryRecord[]>(['list', '--layer', 'notes', ...at()])).map((record) => record.content)).toEqual(['elsewhere']);
    expect((await memhubJson<MemoryRecord[]>(['recall', 'note', '--no-count', ...at()])).map((record) => record.recallCount)).toEqual([0, 0]);
    expect((await memhubJson<MemoryRecord[]>(['list', '--limit', '1', ...at()])).map((record) => record.recallCount)).toEqual([0]);
    // The control: recall counts, and list shows the counts it wrote.
    await memhubJson(['recall', 'note', ...at()]);
    expect((await memhubJson<MemoryRecord[]>(['list', '--tag', 'n', ...at()])).map((record) => record.recallCount)).toEqual([1, 1]);
    const human = await runMemhub(['list', ...at()]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('newer note');
  });

  test('recall and list filter by any of some tags and by metadata values; a bad value is a usage error', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    await memhubJson(['remember', 'plain', ...at()]);
    await memhubJson(['remember', 'tagged and sourced', '--tag', 'x', '--metadata', '{"source":"runbook","n":1}', ...at()]);
    expect((await memhubJson<MemoryRecord[]>(['list', '--any-tag', 'x', '--any-tag', 'nope', ...at()])).map((record) => record.content)).toEqual(['tagged and sourced']);
    expect((await memhubJson<MemoryRecord[]>(['recall', '--metadata', '{"source":"runbook","n":1}', ...at()])).map((record) => record.content)).toEqual(['tagged and sourced']);
    expect(await memhubJson<MemoryRecord[]>(['list', '--metadata', '{"n":"1"}', ...at()])).toEqual([]);
    const bad = await runMemhub(['list', '--metadata', '{"n":[1]}', ...at()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^memhub: Invalid metadata\.n: expected a string, a finite number, a boolean or null/);
  });

  test('--scope (or MEMHUB_SCOPE): each agent writes under its own contextPath and sees only its records', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    const alice = await memhubJson<RememberedRecord>(['remember', 'alice deploys on fridays', '--context-path', '/projects/x', '--scope', '/agents/alice', ...at()]);
    expect(alice.contextPath).toBe('/projects/x');
    const bob = await memhubJson<RememberedRecord>(['remember', 'bob deploys on mondays', ...at()], { env: { MEMHUB_SCOPE: '/agents/bob' } });
    expect(bob.contextPath).toBe('/');
    const asAlice = await memhubJson<MemoryRecord[]>(['recall', 'deploys', '--scope', '/agents/alice', ...at()]);
    expect(asAlice.map((record) => [record.id, record.contextPath])).toEqual([[alice.id, '/projects/x']]);
    expect((await memhubJson<MemoryRecord[]>(['list', '--scope', '/agents/bob', ...at()])).map((record) => record.id)).toEqual([bob.id]);
    const everything = await memhubJson<(MemoryRecord & { score: number; explain: { text: number; recency: number; usage: number } })[]>(['recall', 'deploys', '--explain', ...at()]);
    expect(everything.map((record) => record.contextPath).sort()).toEqual(['/agents/alice/projects/x', '/agents/bob']);
    for (const record of everything) expect(record.score).toBeCloseTo(record.explain.text + record.explain.recency + record.explain.usage, 10);
    const explained = await runMemhub(['recall', 'deploys', '--explain', '--no-count', ...at()]);
    expect(explained.stdout).toMatch(/id\s+score\s+text\s+recency\s+usage/);
    const notHers = await runMemhub(['get', bob.id, '--scope', '/agents/alice', ...at()]);
    expect(notHers.code).toBe(1);
    expect(notHers.stderr).toContain('no record with id');
    const badScope = await runMemhub(['recall', 'x', '--scope', 'agents', ...at()]);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('scope');
  });

  test('export then import into another store gives the same records; importing again skips them all', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    for (const content of ['alpha', 'beta', 'gamma']) await memhubJson(['remember', content, '--tag', 'x', ...at()]);
    const file = temp.file('memory.ndjson');
    expect(await memhubJson(['export', file, ...at()])).toEqual({ exported: 3, file });
    const toStdout = await runMemhub(['export', ...at()]);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdout).toBe(readFileSync(file, 'utf8'));
    const lines = toStdout.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as MemoryRecord);
    expect(lines.map((record) => record.content)).toEqual(['alpha', 'beta', 'gamma']);

    const other = ['--dir', temp.file('other')];
    expect(await memhubJson(['import', file, ...other])).toEqual({ imported: 3, skipped: 0, rejected: 0 });
    expect(await memhubJson(['import', '-', ...other], { input: readFileSync(file, 'utf8') })).toEqual({ imported: 0, skipped: 3, rejected: 0 });
    const copied = await memhubJson<MemoryRecord[]>(['recall', '--tag', 'x', ...other]);
    expect(copied.map((record) => record.id).sort()).toEqual(lines.map((record) => record.id).sort());
  });

  test('export and import show progress on stderr: a plain line every interval when stderr is not a terminal, none in a run shorter than it', async ({ temp, expect }) => {
    const dir = temp.file('store');
    const seeded = await runMemhub(['ingest', '-', '--dir', dir, '--json'], {
      input: Array.from({ length: 3_000 }, (_, index) => JSON.stringify({ content: `progress ${index}` })).join('\n'),
    });
    expect(seeded.code, seeded.stderr).toBe(0);
    const file = temp.file('memory.ndjson');
    const every = { env: { MEMHUB_PROGRESS_INTERVAL_MS: '1' } };
    const exported = await runMemhub(['export', file, '--dir', dir], every);
    expect(exported.code, exported.stderr).toBe(0);
    // The last line may wait for the end of its interval: the records seen so far, never more than the store had.
    expect(exported.stderr).toMatch(/^memhub export: [\d,]+ records, [\d,]+ records\/s, \d+% of the records, [\d.]+ s$/m);
    const imported = await runMemhub(['import', file, '--dir', temp.file('other')], every);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/^memhub import: [\d,]+ records, [\d,]+ records\/s, 0 rejected, \d+% of the input, [\d.]+ s$/m);
    expect(imported.stdout).toBe('imported 3000, skipped 0 already in the store, rejected 0\n');
    // The default interval is seconds: a run this short prints no progress line.
    const quiet = await runMemhub(['import', file, '--dir', temp.file('other')]);
    expect(quiet.stderr).not.toContain('memhub import:');
  });

  test('import reports each bad line with its number, on stderr and in --rejects, and imports the rest', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    await memhubJson(['remember', 'kept', ...at()]);
    const file = temp.file('memory.ndjson');
    await memhubJson(['export', file, ...at()]);
    appendFileSync(file, 'not json\n{"v":1,"id":"x"}\n');
    const rejects = temp.file('rejects.jsonl');
    const run = await runMemhub(['import', file, '--dir', temp.file('other'), '--rejects', rejects, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ imported: 1, skipped: 0, rejected: 2, rejectsFile: rejects });
    expect(run.stderr).toMatch(/^line 2: not JSON/m);
    expect(run.stderr).toMatch(/^line 3: Invalid createdAt: is missing/m);
    const written = readFileSync(rejects, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { line: number });
    expect(written.map((reject) => reject.line)).toEqual([2, 3]);
  });

  test('stats: records per layer, file sizes, recall counts and lock metrics', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    await memhubJson(['remember', 'one', ...at()]);
    await memhubJson(['remember', 'two', '--layer', 'notes', ...at()]);
    await memhubJson(['recall', 'one', ...at()]);
    const stats = await memhubJson<StatsReport>(['stats', ...at()]);
    expect(stats.records).toBe(2);
    expect(stats.recordsByLayer).toEqual({ application: 1, notes: 1 });
    expect(stats.recallCounts.total).toBe(1);
    expect(stats.sizes.databaseBytes).toBeGreaterThan(0);
    expect(stats.sizes.walBytes).toBeGreaterThanOrEqual(0);
    expect(stats.sizes.layers.map((layer) => layer.layer)).toEqual(['application', 'notes']);
    for (const layer of stats.sizes.layers) expect(layer.mirrorBytes).toBeGreaterThan(0);
    // This process's own use of the store's locks (opening a settled store takes none: reading needs no lock).
    expect(stats.locks.some((lock) => lock.path.endsWith('memory.db.lock') && lock.timeouts === 0)).toBe(true);
    const human = await runMemhub(['stats', ...at()]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^notes\s+1$/m);
    expect(human.stdout).toMatch(/^layers\/notes\.jsonl\s+\d+ B$/m);
  });

  test('verify exits 0 on a healthy store and 3 when a mirror is damaged; repair fixes it', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    for (const content of ['one', 'two']) await memhubJson(['remember', content, ...at()]);
    const healthy = await runMemhub(['verify', ...at(), '--json']);
    expect(healthy.code).toBe(0);
    expect((JSON.parse(healthy.stdout) as VerifyReport).ok).toBe(true);

    appendFileSync(join(temp.file('store'), 'layers', 'application.jsonl'), 'this is not a mirror line\n');
    const damaged = await runMemhub(['verify', ...at(), '--json']);
    expect(damaged.code).toBe(3);
    const report = JSON.parse(damaged.stdout) as VerifyReport;
    expect(report.ok).toBe(false);
    expect(report.problems.map((problem) => problem.kind)).toContain('mirror-bad-line');
    const human = await runMemhub(['verify', ...at()]);
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/problems? found:\n {2}mirror-bad-line \(application\)/);

    const repaired = await runMemhub(['repair', ...at(), '--json']);
    expect(repaired.code).toBe(0);
    expect((JSON.parse(repaired.stdout) as RepairReport).after.ok).toBe(true);
    expect((await runMemhub(['verify', ...at()])).code).toBe(0);
    expect(await recordCount(temp.file('store'))).toBe(2);
  });

  test('rebuild recreates memory.db from the layer files; a healthy database needs --force', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    const { created: _created, ...record } = await memhubJson<RememberedRecord>(['remember', 'survives the rebuild', '--tag', 'r', ...at()]);
    const refused = await runMemhub(['rebuild', ...at()]);
    expect(refused.code).toBe(1);
    // One line that names the flag; an expected refusal suggests no stack trace.
    expect(refused.stderr).toMatch(/^memhub: .*memory\.db is healthy and holds records; add --force to replace it.*\n$/);
    expect(refused.stderr).not.toContain('stack trace');

    // The database is lost (the store is closed: renaming it is safe then, never while open).
    renameSync(join(temp.file('store'), 'memory.db'), temp.file('lost.db'));
    const rebuilt = await memhubJson<{ records: number; layers: { layer: string }[] }>(['rebuild', ...at()]);
    expect(rebuilt.records).toBe(1);
    expect(await memhubJson(['get', record.id, ...at()])).toEqual(record);
    const forced = await runMemhub(['rebuild', '--force', ...at()]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^rebuilt .*: 1 records/);
  });

  test('locks lists every lock file of the store, free or held, and who holds it', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    await memhubJson(['remember', 'one', ...at()]);
    const locks = await memhubJson<StoreLockReport[]>(['locks', ...at()]);
    expect(locks.map((lock) => lock.file)).toEqual(['memory.db.lock', 'memory.db.leader.lock', 'memory.db.presence.lock', 'memory.search.db.lock', 'layers/application.jsonl.lock']);
    for (const lock of locks) {
      expect(lock.state).toBe('free');
      expect(lock.holders).toEqual([]);
      // The last holder was the remember command, which closed the store and exited: released, not a dead holder.
      expect(lock.lastHolder).toMatchObject({ purpose: expect.stringMatching(/^memhub /), alive: false, releasedAt: expect.any(String) });
      expect(lock.staleMetadata, lock.file).toBe(false);
    }
    const human = await runMemhub(['locks', ...at()]);
    expect(human.stdout).toMatch(/^memory\.db\.lock\s+free\s+\d+\s.*last holder closed it at \d{4}-/m);
    expect(human.stdout).not.toContain('died');

    // A writer killed while holding the write lock: the lock is free (the kernel dropped it), and its holder died.
    const lockFile = join(temp.file('store'), 'memory.db.lock');
    const holder = new FixtureProcess(fileURLToPath(new URL('../../lock/test/fixtures/hold-until-told.ts', import.meta.url)), [lockFile, 'killed writer']);
    await holder.waitForLine('held');
    holder.kill('SIGKILL');
    await holder.exited();
    const [writeLock] = await memhubJson<StoreLockReport[]>(['locks', ...at()]);
    expect(writeLock).toMatchObject({ state: 'free', staleMetadata: true, lastHolder: { pid: holder.pid, purpose: 'killed writer', alive: false } });
    expect(writeLock!.lastHolder!.releasedAt).toBeUndefined();
    expect((await runMemhub(['locks', ...at()])).stdout).toMatch(/^memory\.db\.lock\s+free\s+\d+\s.*killed writer.*last holder died without closing it/m);
  });

  test('locks names the holder of a held lock: pid, host, purpose, since', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    await memhubJson(['remember', 'one', ...at()]);
    const lockFile = join(temp.file('store'), 'memory.db.lock');
    const startedAt = Date.now();
    const holder = new FixtureProcess(fileURLToPath(new URL('../../lock/test/fixtures/hold-until-told.ts', import.meta.url)), [lockFile, 'nightly re-index']);
    try {
      await holder.waitForLine('held');
      const [writeLock] = await memhubJson<StoreLockReport[]>(['locks', ...at()]);
      expect(writeLock).toMatchObject({ file: 'memory.db.lock', state: 'exclusive', staleMetadata: false });
      expect(writeLock!.holders).toHaveLength(1);
      expect(writeLock!.holders[0]).toMatchObject({ pid: holder.pid, host: hostname(), purpose: 'nightly re-index', mode: 'exclusive', alive: true });
      // Since the moment the holder took it: after the test started it, and not in the future.
      expect(Date.parse(writeLock!.holders[0]!.since!)).toBeGreaterThanOrEqual(startedAt);
      expect(Date.parse(writeLock!.holders[0]!.since!)).toBeLessThanOrEqual(Date.now());
      const human = await runMemhub(['locks', ...at()]);
      expect(human.stdout).toMatch(new RegExp(`^memory\\.db\\.lock\\s+exclusive\\s+${holder.pid}\\s+${hostname()}\\s+\\S+\\s+nightly re-index\\s+\\d{4}-`, 'm'));
    } finally {
      holder.send('release');
      await holder.exited();
    }
  });

  test('locks --watch redraws every second and exits 0 on Ctrl-C (SIGINT)', async ({ temp, expect }) => {
    const at = () => storeIn(temp);
    await memhubJson(['remember', 'one', ...at()]);
    const child = spawn(process.execPath, memhubArgs(['locks', '--watch', '--json', ...at()]), { cwd: REPO_ROOT, env: cleanEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    const snapshots: { at: string; locks: StoreLockReport[] }[] = [];
    const enough = new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        snapshots.push(JSON.parse(line) as { at: string; locks: StoreLockReport[] });
        if (snapshots.length === 2) resolve();
      });
    });
    await enough;
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(snapshots[0]!.locks.map((lock) => lock.file)).toEqual(['memory.db.lock', 'memory.db.leader.lock', 'memory.db.presence.lock', 'memory.search.db.lock', 'layers/application.jsonl.lock']);
    const apart = Date.parse(snapshots[1]!.at) - Date.parse(snapshots[0]!.at);
    expect(apart).toBeGreaterThanOrEqual(900);
  });

  test('the default store is ./.memhub in the current folder, and MEMHUB_DIR overrides it', async ({ temp, expect }) => {
    const here = await runMemhub(['remember', 'in the default folder', '--json'], { cwd: temp.path });
    expect(here.code).toBe(0);
    expect(existsSync(join(temp.path, '.memhub', 'memory.db'))).toBe(true);
    const viaEnv = await runMemhub(['remember', 'in MEMHUB_DIR', '--json'], { env: { MEMHUB_DIR: temp.file('from-env') } });
    expect(viaEnv.code).toBe(0);
    expect(await recordCount(temp.file('from-env'))).toBe(1);
  });

  test('--help of every command shows an example and the exit codes', async ({ expect }) => {
    const commands = ['remember', 'recall', 'list', 'get', 'update', 'history', 'forget', 'archive', 'restore', 'maintain', 'ingest', 'export', 'import', 'stats', 'verify', 'repair', 'rebuild', 'locks', 'mcp'];
    const main = await runMemhub(['--help']);
    expect(main.code).toBe(0);
    for (const command of commands) expect(main.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(main.stdout).toContain('3  verify found problems');
    const helps = await Promise.all(commands.map((command) => runMemhub([command, '--help'])));
    helps.forEach((help, index) => {
      expect(help.code, commands[index]).toBe(0);
      expect(help.stdout, commands[index]).toMatch(new RegExp(`Examples?:\\n {2}\\$ .*memhub ${commands[index]}`));
      expect(help.stdout, commands[index]).toMatch(/Exit codes: 0 /);
    });
    expect(helps[commands.indexOf('verify')]!.stdout).toContain('3 problems found');
  });
});

describe.concurrent('a file left over where the store expects a folder', { timeout: 180_000 }, () => {
  test('is a usage error, not a crash', async ({ temp, expect }) => {
    writeFileSync(temp.file('plain-file'), 'x');
    const run = await runMemhub(['remember', 'x', '--dir', temp.file('plain-file')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^memhub: Invalid dir: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
