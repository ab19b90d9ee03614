import { expect, it } from 'vitest';
import { StoreValidationError } from '../../src/index.js';
import { describeEachEngine } from '../support/engines.js';
import { asStored } from '../support/stored-record.js';

const circular: Record<string, unknown> = {};
circular['self'] = circular;

describeEachEngine('bad input', (engine) => {
  it.each([
    ['missing content', {}, 'content', /string/],
    ['empty content', { content: '' }, 'content', /empty/],
    ['content over the size limit', { content: 'x'.repeat(1001) }, 'content', /over the limit/],
    ['a lone surrogate', { content: 'a\ud800b' }, 'content', /surrogate/],
    ['tags not an array', { content: 'c', tags: 'a,b' }, 'tags', /array/],
    ['an empty tag', { content: 'c', tags: ['ok', ' '] }, 'tags[1]', /empty/],
    ['a relative contextPath', { content: 'c', contextPath: 'proj/a' }, 'contextPath', /absolute/],
    ['a layer that is a path', { content: 'c', layer: '../x' }, 'layer', /not a layer name/],
    ['metadata with NaN', { content: 'c', metadata: { n: Number.NaN } }, 'metadata.n', /JSON number/],
    ['circular metadata', { content: 'c', metadata: circular }, 'metadata.self', /circular/],
    ['an empty key', { content: 'c', key: '' }, 'key', /empty/],
    ['an unknown field', { content: 'c', colour: 'red' }, 'colour', /not a field/],
  ])('remember() with %s throws StoreValidationError naming the field, and writes nothing', async (_, input, field, reason) => {
    const store = await engine.open({ maxContentBytes: 1000 });
    const error = await store.remember(input as never).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(StoreValidationError);
    expect(error).toMatchObject({ code: 'ERR_MEMHUB_VALIDATION', field });
    expect((error as StoreValidationError).reason).toMatch(reason);
    expect((await store.stats()).records).toBe(0);
  });

  it('rememberMany with one bad item writes none, and names the item', async () => {
    const store = await engine.open();
    await expect(store.rememberMany([{ content: 'good' }, { content: 'also good' }, { content: '' }])).rejects.toMatchObject({
      field: 'items[2].content',
      constructor: StoreValidationError,
    });
    expect((await store.stats()).records).toBe(0);
  });

  it('normalises what it keeps: tags trimmed and deduplicated, contextPath cleaned', async () => {
    const store = await engine.open();
    const record = await store.remember({ content: 'c', tags: [' a', 'a ', 'b'], contextPath: '/proj//a/./b/' });
    expect(record).toMatchObject({ tags: ['a', 'b'], contextPath: '/proj/a/b', layer: 'application' });
    expect(await store.get(record.id)).toEqual(asStored(record));
  });

  it('get() and forget() refuse an id that is not a non-empty string', async () => {
    const store = await engine.open();
    await expect(store.get('')).rejects.toMatchObject({ field: 'id', constructor: StoreValidationError });
    await expect(store.forget(7 as never)).rejects.toMatchObject({ field: 'id', constructor: StoreValidationError });
  });

  it.each([
    [{ lockTimeoutMs: 0 }, 'lockTimeoutMs'],
    [{ maxContentBytes: Number.NaN }, 'maxContentBytes'],
    [{ recallFlushIntervalMs: -5 }, 'recallFlushIntervalMs'],
    [{ logger: {} }, 'logger'],
    [{ colour: 'red' }, 'colour'],
  ])('openStore with %j throws StoreValidationError naming %s', async (options, field) => {
    const place = engine.place();
    await expect(place.open(options as never)).rejects.toMatchObject({ field, code: 'ERR_MEMHUB_VALIDATION' });
  });
});
