import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { startStoreFixture, type FixtureProcess } from './support/processes.js';

let dir: string;
const children: FixtureProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-bounded-'));
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Records near the default content limit (1 MiB), distinct, with a word to find. */
const LARGE = 96;
const largeContent = (index: number) => `large ${index} ${'abcdefgh'.repeat(130_000)}`;
/**
 * The reader's heap: two thirds of what the large records weigh as text (loading TypeScript through
 * tsx alone takes up to about 40 MiB of it at start).
 */
const HEAP_MIB = 64;

describe('reading a store whose records outweigh the heap', { timeout: 120_000 }, () => {
  it('verify(), export(), import() and rebuildFromMirror() hold one record at a time (or a small page), not the store: they run in a heap smaller than its records', async () => {
    const store = await openStore({ dir });
    for (let index = 0; index < LARGE; index += 8) {
      await store.rememberMany(Array.from({ length: 8 }, (_, offset) => ({ content: largeContent(index + offset), layer: offset % 2 ? 'application' : 'big' })));
    }
    await store.rememberMany(Array.from({ length: 200 }, (_, index) => ({ content: `small ${index}` })));
    await store.close();
    // A layer file rebuilt from the database on open reads its records one at a time too.
    unlinkSync(join(dir, 'layers', 'big.jsonl'));

    const reader = startStoreFixture('bounded-reader.ts', [dir, join(dir, 'copy')], { NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}` });
    children.push(reader);
    const ending = await reader.exited();
    expect(ending, `after: ${reader.lines.join(', ')}\n${reader.stderr.slice(0, 2_000)}`).toBe(0);
    const result = JSON.parse(reader.lines.at(-1) ?? '{}') as { records: number; problems: unknown[]; lines: number; bytes: number; imported: number; rebuilt: number };
    expect(result.records).toBe(LARGE + 200);
    expect(result.problems).toEqual([]);
    expect(result.lines).toBe(LARGE + 200);
    expect(result.bytes).toBeGreaterThan(LARGE * 1_000_000);
    expect(result.imported).toBe(LARGE + 200);
    expect(result.rebuilt).toBe(LARGE + 200);
  });
});
