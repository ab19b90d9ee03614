import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MINIMUM_SQLITE_VERSION, openStore, StoreValidationError, type Store } from '../src/index.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-store-input-'));
  store = await openStore({ dir, maxContentBytes: 1000 });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const circular: Record<string, unknown> = {};
circular['self'] = circular;

describe('bad input to remember() is refused with the field named, and nothing is written', () => {
  it.each([
    ['missing content', {}, 'content', /string/],
    ['empty content', { content: '' }, 'content', /empty/],
    ['blank content', { content: ' \n\t' }, 'content', /empty/],
    ['content over the size limit', { content: 'x'.repeat(1001) }, 'content', /over the limit/],
    ['a lone surrogate', { content: 'a\ud800b' }, 'content', /surrogate/],
    ['tags not an array', { content: 'c', tags: 'a,b' }, 'tags', /array/],
    ['an empty tag', { content: 'c', tags: ['ok', ' '] }, 'tags[1]', /empty/],
    ['a tag that is not a string', { content: 'c', tags: [1] }, 'tags[0]', /string/],
    ['a relative contextPath', { content: 'c', contextPath: 'proj/a' }, 'contextPath', /absolute/],
    ['a layer that is a path', { content: 'c', layer: '../x' }, 'layer', /not a layer name/],
    ['an upper-case layer', { content: 'c', layer: 'Archive' }, 'layer', /not a layer name/],
    ['metadata that is an array', { content: 'c', metadata: [1] }, 'metadata', /plain object/],
    ['metadata with a Date', { content: 'c', metadata: { when: new Date() } }, 'metadata.when', /plain object/],
    ['metadata with NaN', { content: 'c', metadata: { n: Number.NaN } }, 'metadata.n', /JSON number/],
    ['metadata with undefined', { content: 'c', metadata: { u: undefined } }, 'metadata.u', /not a JSON value/],
    ['circular metadata', { content: 'c', metadata: circular }, 'metadata.self', /circular/],
    ['an empty key', { content: 'c', key: '' }, 'key', /empty/],
    ['an unknown field', { content: 'c', colour: 'red' }, 'colour', /not a field/],
  ])('%s', async (_, input, field, reason) => {
    const error = await store.remember(input as never).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(StoreValidationError);
    expect((error as StoreValidationError).field).toBe(field);
    expect((error as StoreValidationError).reason).toMatch(reason);
    expect((error as StoreValidationError).code).toBe('ERR_MEMHUB_VALIDATION');
    expect((await store.stats()).records).toBe(0);
  });

  it('rememberMany with one bad item writes none, and names the item', async () => {
    await expect(store.rememberMany([{ content: 'good' }, { content: 'also good' }, { content: '' }])).rejects.toMatchObject({
      field: 'items[2].content',
    });
    expect((await store.stats()).records).toBe(0);
  });

  it('normalises what it keeps: tags trimmed and deduplicated, contextPath cleaned', async () => {
    const record = await store.remember({ content: 'c', tags: [' a', 'a ', 'b'], contextPath: '/proj//a/./b/' });
    expect(record.tags).toEqual(['a', 'b']);
    expect(record.contextPath).toBe('/proj/a/b');
    expect(record.layer).toBe('application');
  });
});

describe('every public entry of Store checks the types of its arguments first, and throws StoreValidationError naming the one that is wrong', () => {
  /** A sparse array: `length` elements, only some of them there. */
  const withHole = <T>(...items: (T | undefined)[]): T[] => {
    const array: T[] = [];
    array.length = items.length;
    items.forEach((item, index) => {
      if (item !== undefined) array[index] = item;
    });
    return array;
  };

  it.each<[string, (s: Store) => Promise<unknown>, string]>([
    ['import(42)', (s) => s.import(42 as never), 'source'],
    ['import(null)', (s) => s.import(null as never), 'source'],
    ['import([42]): a chunk that is not text or bytes', (s) => s.import([42] as never), 'source[0]'],
    ['import(lines, 5)', (s) => s.import([], 5 as never), 'options'],
    ['import(lines, { colour })', (s) => s.import([], { colour: 'red' } as never), 'colour'],
    ['import(lines, { onReject: 1 })', (s) => s.import(['not json\n'], { onReject: 1 } as never), 'onReject'],
    ['import(lines, { onProgress: 1 }) (it used to write the first batch, then throw a TypeError)', (s) => s.import([`{"v":1,"id":"a","createdAt":"2024-01-01T00:00:00.000Z","recallCount":0,"content":"c"}\n`], { onProgress: 1 } as never), 'onProgress'],
    ['rememberMany with a hole (it used to be skipped unseen)', (s) => s.rememberMany(withHole({ content: 'a' }, undefined, { content: 'b' })), 'items[1]'],
    ['remember with a hole in its tags', (s) => s.remember({ content: 'c', tags: withHole('a', undefined, 'b') }), 'tags[1]'],
    ['recall with a hole in its tags', (s) => s.recall({ tags: withHole(undefined, 'a') }), 'tags[0]'],
    ['archive with a hole in its ids', (s) => s.archive({ ids: withHole(undefined, 'some-id') }), 'ids[0]'],
  ])('%s', async (_, call, field) => {
    const error = await call(store).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(StoreValidationError);
    expect((error as StoreValidationError).field).toBe(field);
    expect((await store.stats()).records).toBe(0);
  });
});

describe('bad options to openStore', () => {
  it.each([
    [{ dir: '' }, 'dir'],
    [{ dir: 'has\0nul' }, 'dir'],
    [{ durability: 'sometimes' }, 'durability'],
    [{ busyTimeoutMs: -1 }, 'busyTimeoutMs'],
    [{ lockTimeoutMs: 0 }, 'lockTimeoutMs'],
    [{ lockStarvationMs: -1 }, 'lockStarvationMs'],
    [{ lockStarvationMs: 60_001 }, 'lockStarvationMs'],
    [{ lockStarvationMs: '20' }, 'lockStarvationMs'],
    [{ maxContentBytes: Number.NaN }, 'maxContentBytes'],
    [{ logger: {} }, 'logger'],
  ])('%j names %s', async (options, field) => {
    await expect(openStore({ dir: join(dir, 'other'), ...options } as never)).rejects.toMatchObject({ field });
  });

  it('a dir that is a file', async () => {
    await expect(openStore({ dir: join(dir, 'memory.db') })).rejects.toMatchObject({ field: 'dir', reason: /not a folder/ });
  });
});

describe('the SQLite inside better-sqlite3', () => {
  it(`is ${MINIMUM_SQLITE_VERSION} or later (the WAL-reset corruption fix)`, () => {
    const db = new Database(':memory:');
    const version = String(db.prepare('SELECT sqlite_version()').pluck().get());
    db.close();
    const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
    expect(major * 1_000_000 + minor * 1_000 + patch).toBeGreaterThanOrEqual(3_051_003);
  });
});
