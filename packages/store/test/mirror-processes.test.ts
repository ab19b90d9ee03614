import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { databaseLayer, readLayerFile, replayLayerFile } from './support/mirror-files.js';
import { startStoreFixture, type FixtureProcess } from './support/processes.js';

let dir: string;
const children: FixtureProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-mirror-procs-'));
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface WriterPlan {
  readonly count: number;
  readonly label: string;
  readonly inFlight?: number;
  readonly layers?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

function startWriters(plans: readonly WriterPlan[]): FixtureProcess[] {
  return plans.map(({ count, label, inFlight = 4, layers = [], env = {} }) => {
    const child = startStoreFixture('store-writer.ts', [dir, String(count), label, String(inFlight), '', layers.join(',')], env);
    children.push(child);
    return child;
  });
}

/** Starts the writers, releases them at once, and waits until each says done. */
async function runWriters(plans: readonly WriterPlan[]): Promise<void> {
  const started = startWriters(plans);
  await Promise.all(started.map((child) => child.waitForLine('ready')));
  for (const child of started) child.send('go');
  const results = await Promise.all(started.map((child) => Promise.race([child.waitForLine('done', 120_000), child.waitForLine('error', 120_000)])));
  expect(results, started.map((child) => child.stderr).join('\n')).toEqual(plans.map(({ count }) => `done ${count}`));
}

/** Every record of the layer is in its file exactly once (no record line twice), and the file replays to the database's layer. */
function expectLayerMirrored(layer: string, expectedRecords: number): void {
  const lines = readLayerFile(dir, layer);
  const recordLines = lines.filter((line) => line.op === 'remember').map((line) => line.record!.id);
  expect(new Set(recordLines).size, `a record line of ${layer} appears twice`).toBe(recordLines.length);
  const database = databaseLayer(dir, layer);
  expect(database.size).toBe(expectedRecords);
  expect(replayLayerFile(dir, layer)).toEqual(database);
}

async function verifyClean(): Promise<void> {
  const store = await openStore({ dir });
  try {
    const report = await store.verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  } finally {
    await store.close();
  }
}

describe('the JSONL mirror with many processes', () => {
  it('8 processes x 500 remembers over 2 layers: each layer file holds exactly the records the database has in it; verify() is clean', async () => {
    await runWriters(Array.from({ length: 8 }, (_, index) => ({ count: 500, label: `w${index}`, layers: ['application', 'notes'] })));
    expectLayerMirrored('application', 2000);
    expectLayerMirrored('notes', 2000);
    // Every byte of each file is whole lines: no torn or interleaved line anywhere.
    for (const layer of ['application', 'notes']) {
      const text = readFileSync(join(dir, 'layers', `${layer}.jsonl`), 'utf8');
      expect(text.split('\n').filter((line) => line !== '').every((line) => line.startsWith('{"v":1,') && line.endsWith('}'))).toBe(true);
    }
    await verifyClean();
  });

  it('a writer killed between its COMMIT and its append: reopening the store catches the mirror up; verify() is clean', async () => {
    const [victim] = startWriters([{ count: 50, label: 'victim', env: { MEMHUB_FAULT: 'after-commit' } }]);
    await victim!.waitForLine('ready');
    victim!.send('go');
    expect(await victim!.exited()).toBe('SIGKILL');
    const committed = databaseLayer(dir, 'application');
    expect(committed.size).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'layers', 'application.jsonl')) ? replayLayerFile(dir, 'application').size : 0).toBe(0);

    const store = await openStore({ dir });
    expect(replayLayerFile(dir, 'application')).toEqual(committed);
    await store.close();
    await verifyClean();
  });

  it('a writer killed halfway through an append: the torn half is quarantined on the next append and the lines are written again', async () => {
    const seed = await openStore({ dir });
    await seed.rememberMany([{ content: 'before the crash' }]);
    await seed.close();
    const [victim] = startWriters([{ count: 40, label: 'halfway', inFlight: 8, env: { MEMHUB_FAULT: 'mirror-mid-append' } }]);
    await victim!.waitForLine('ready');
    victim!.send('go');
    expect(await victim!.exited()).toBe('SIGKILL');
    expect(readFileSync(join(dir, 'layers', 'application.jsonl'), 'utf8').endsWith('\n')).toBe(false);

    // Another process appends next: it finds the torn half first.
    await runWriters([{ count: 10, label: 'next' }]);
    const quarantined = readFileSync(join(dir, 'layers', 'application.jsonl.quarantine'), 'utf8').trim().split('\n');
    expect(quarantined).toHaveLength(1);
    expectLayerMirrored('application', databaseLayer(dir, 'application').size);
    await verifyClean();
  });

  it('a torn last line, then 4 processes appending at once: the fragment is quarantined before any append and fused with no line', async () => {
    const seed = await openStore({ dir });
    await seed.rememberMany(Array.from({ length: 5 }, (_, index) => ({ content: `seed ${index}` })));
    await seed.close();
    const fragment = '{"v":1,"seq":77,"op":"remember","record":{"id":"half-written","content":"cut sho';
    appendFileSync(join(dir, 'layers', 'application.jsonl'), fragment);

    await runWriters(Array.from({ length: 4 }, (_, index) => ({ count: 200, label: `after${index}`, inFlight: 8 })));
    const entries = readFileSync(join(dir, 'layers', 'application.jsonl.quarantine'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { fragment: string });
    expect(entries.map((entry) => entry.fragment)).toEqual([fragment]);
    expect(readFileSync(join(dir, 'layers', 'application.jsonl'), 'utf8')).not.toContain('half-written');
    expectLayerMirrored('application', 805);
    await verifyClean();
  });
});
