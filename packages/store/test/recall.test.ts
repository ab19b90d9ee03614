import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/index.js';
import { startStoreFixture, type FixtureProcess } from './support/processes.js';

let dir: string;
let store: Store;
const children: FixtureProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-recall-'));
  store = await openStore({ dir });
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

// What recall finds, ranks, counts and refuses is tested on both engines in behaviour/recall.test.ts.
describe('recall', () => {
  it('a contextPath prefix takes exactly the path and the paths below it, whatever characters sort beside "/"', async () => {
    const paths = ['/proj/a', '/proj/a/b', '/proj/a-b', '/proj/a.b', '/proj/a0', '/proj/a/%_', '/proj/a/\u00e9', '/proj/ab'];
    for (const contextPath of paths) await store.remember({ content: contextPath, contextPath });
    const found = async (contextPath: string) => (await store.recall({ contextPath, limit: 100 })).map((hit) => hit.content).sort();
    expect(await found('/proj/a')).toEqual(['/proj/a', '/proj/a/%_', '/proj/a/b', '/proj/a/\u00e9']);
    expect(await found('/proj/a/%_')).toEqual(['/proj/a/%_']);
    expect(await found('/proj/a-b')).toEqual(['/proj/a-b']);
    expect(await found('/')).toHaveLength(paths.length);
  });
});

describe('recall counts from many processes', () => {
  it('4 processes x 1000 recalls of one record, then close: its count is exactly 4000', async () => {
    const record = await store.remember({ content: 'the shared fact everyone recalls' });
    const recallers = Array.from({ length: 4 }, () => {
      const child = startStoreFixture('store-recaller.ts', [dir, '1000', 'shared fact']);
      children.push(child);
      return child;
    });
    await Promise.all(recallers.map((child) => child.waitForLine('ready')));
    for (const child of recallers) child.send('go');
    const results = await Promise.all(recallers.map((child) => Promise.race([child.waitForLine('done', 120_000), child.waitForLine('error', 120_000)])));
    expect(results).toEqual(['done 1000', 'done 1000', 'done 1000', 'done 1000']);
    expect((await store.get(record.id))?.recallCount).toBe(4000);
  });
});
