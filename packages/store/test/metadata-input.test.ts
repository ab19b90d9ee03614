import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreValidationError, type Store } from '../src/index.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-metadata-input-'));
  store = await openStore({ dir });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What remember() threw for this metadata, or undefined when it stored it. */
async function refusal(metadata: unknown): Promise<StoreValidationError | undefined> {
  return store.remember({ content: 'c', metadata: metadata as Record<string, unknown> }).then(
    () => undefined,
    (thrown: unknown) => {
      if (thrown instanceof StoreValidationError) return thrown;
      throw thrown;
    },
  );
}

/** A getter that answers differently at each read: the first read sees a number, the next ones NaN. */
function changingGetter(): Record<string, unknown> {
  let reads = 0;
  return {
    get score() {
      reads += 1;
      return reads === 1 ? 1 : Number.NaN;
    },
  };
}

function hugeSparseArray(): unknown[] {
  const array: unknown[] = [];
  array.length = 2 ** 28;
  return array;
}

describe('metadata that JSON would rewrite is refused with its path, and nothing is written', () => {
  it.each([
    ['an array hole (JSON writes null)', () => ({ list: [1, , 3] }), 'metadata.list[1]', /hole/],
    ['a named property of an array (JSON leaves it out)', () => ({ list: Object.assign([1, 2], { x: 1 }) }), 'metadata.list.x', /named property of an array/],
    ['a sparse array of length 2**28 (a RangeError before)', () => ({ big: hugeSparseArray() }), 'metadata.big', /268435456 elements/],
    ['a symbol key (JSON leaves it out)', () => ({ [Symbol('hidden')]: 1, shown: 2 }), 'metadata[Symbol(hidden)]', /symbol/],
    ['a non-enumerable property (JSON leaves it out)', () => Object.defineProperty({ shown: 1 }, 'hidden', { value: 2, enumerable: false }), 'metadata.hidden', /non-enumerable/],
    ['a Proxy (its answers may change at each read)', () => ({ p: new Proxy({ a: 1 }, {}) }), 'metadata.p', /Proxy/],
    ['a Proxy as the metadata itself', () => new Proxy({ a: 1 }, {}), 'metadata', /Proxy/],
    ['an array subclass', () => ({ list: new (class Tagged extends Array<number> {})() }), 'metadata.list', /not a plain array/],
    ['a key with a lone surrogate', () => ({ 'a\ud800': 1 }), 'metadata["a\\ud800"]', /lone surrogate/],
  ])('%s', async (_, make, field, reason) => {
    const error = await refusal(make());
    expect(error, 'refused').toBeInstanceOf(StoreValidationError);
    expect(error?.field).toBe(field);
    expect(error?.reason).toMatch(reason);
    expect((await store.stats()).records).toBe(0);
  });

  it.each([
    ['on the metadata object', () => changingGetter(), (metadata: Record<string, unknown>) => metadata['score']],
    ['deep inside', () => ({ a: { b: [changingGetter()] } }), (metadata: Record<string, unknown>) => (metadata['a'] as { b: { score: unknown }[] }).b[0]?.score],
  ])('a getter %s is read exactly once, and what it answered is what is kept (it used to be read twice: the check saw 1, the JSON got NaN, written as null)', async (_, make, score) => {
    const record = await store.remember({ content: 'c', metadata: make() });
    expect(score(record.metadata)).toBe(1);
    expect(score((await store.get(record.id))?.metadata ?? {})).toBe(1);
  });

  it('what it accepts comes back exactly as given: nested objects and arrays, null-prototype objects, unicode, numbers, key order', async () => {
    const given = Object.assign(Object.create(null) as Record<string, unknown>, {
      b: 1,
      a: [1, 'two', null, true, { deep: [[], {}] }],
      '0': 'index-like key',
      'with space': 'é\u{1F600}',
      n: -1.5e-7,
    });
    const record = await store.remember({ content: 'c', metadata: given });
    const expected = { '0': 'index-like key', b: 1, a: [1, 'two', null, true, { deep: [[], {}] }], 'with space': 'é\u{1F600}', n: -1.5e-7 };
    expect(record.metadata).toEqual(expected);
    expect(Object.keys(record.metadata)).toEqual(['0', 'b', 'a', 'with space', 'n']);
    expect((await store.get(record.id))?.metadata).toEqual(expected);
  });
});
