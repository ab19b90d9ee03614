import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { openStore, StoreValidationError, type MemoryRecord, type RememberInput, type Store } from '@memhub/store';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asStored } from '../../packages/store/test/support/stored-record.js';

/**
 * Property tests: fast-check generates the inputs, including the awkward ones (lone surrogates,
 * NUL bytes, long values, deep metadata, path tricks), and shrinks any failure to a small case.
 * Each property runs on one store; records counted before and after show what was written.
 */

const MAX_CONTENT_BYTES = 4_096;
let base: string;
let store: Store;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'memhub-fuzz-'));
  store = await openStore({ dir: join(base, 'store'), maxContentBytes: MAX_CONTENT_BYTES });
});

afterAll(async () => {
  await store.close();
  rmSync(base, { recursive: true, force: true });
});

const records = async () => (await store.stats()).records;

// ---------- valid input, and what the store must give back for it ----------

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const anyText = fc.string({ unit: 'binary', maxLength: 60 });
const validContent = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: MAX_CONTENT_BYTES }) },
  // Near the byte limit in characters of 1 to 4 UTF-8 bytes: the limit is on bytes, not characters.
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1000, maxLength: 1400 }) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', 'a\u0000b', 'line\nbreak\r\n', '\u2028\u2029', '"quoted" \\ back', '😀👍🏽', 'e\u0301') },
).filter((content) => content.trim() !== '' && Buffer.byteLength(content) <= MAX_CONTENT_BYTES);
const validTag = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((tag) => tag.trim() !== '' && !tag.includes('\0'));
const pathSegment = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => !s.includes('/') && !s.includes('\0')), fc.constantFrom('.', '..', '', '%', '_', 'a b'));
const validContextPath = fc.array(pathSegment, { maxLength: 6 }).map((segments) => `/${segments.join('/')}`);
const validLayer = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/);
const jsonLeaf = fc.oneof(fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), anyText);
const validMetadata = fc.dictionary(
  fc.string({ unit: 'binary', maxLength: 10 }).filter((key) => key !== '__proto__'),
  fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, jsonLeaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 })),
  })).value,
  { maxKeys: 6 },
);
const validInput: fc.Arbitrary<RememberInput> = fc.record(
  {
    content: validContent,
    tags: fc.array(validTag, { maxLength: 8 }),
    contextPath: validContextPath,
    layer: validLayer,
    metadata: validMetadata,
    key: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  },
  { requiredKeys: ['content'] },
);

/** The stored form of an input, by the store's documented rules, written here independently. */
function expectedRecord(input: RememberInput): Omit<MemoryRecord, 'id' | 'seq' | 'createdAt' | 'recallCount'> {
  const tags: string[] = [];
  for (const tag of input.tags ?? []) {
    const clean = tag.trim().normalize('NFC');
    if (!tags.includes(clean)) tags.push(clean);
  }
  let contextPath = input.contextPath ?? '/';
  const parts: string[] = [];
  for (const segment of contextPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') parts.pop();
    else parts.push(segment);
  }
  contextPath = `/${parts.join('/')}`;
  // JSON has no -0: it is the one value JSON itself writes differently (as 0).
  const metadata = JSON.parse(JSON.stringify(input.metadata ?? {})) as Record<string, unknown>;
  return { content: input.content, tags, contextPath, layer: input.layer ?? 'application', metadata, key: input.key ?? null };
}

describe('fuzz: remember, rememberMany and recall', () => {
  it('valid input round-trips exactly through the database and the layer mirror', async () => {
    await fc.assert(
      fc.asyncProperty(validInput, async (input) => {
        const remembered = await store.remember(input);
        if (!remembered.created) {
          // The key was used before: the first record stands.
          expect(remembered.key).toBe(input.key);
          return;
        }
        const stored = asStored(remembered);
        const { id: _id, seq: _seq, createdAt: _createdAt, recallCount: _count, ...rest } = stored;
        expect(rest).toEqual(expectedRecord(input));
        expect(await store.get(stored.id)).toEqual(stored);
        const mirrored = await store.readFromMirror(stored.layer, stored.id);
        expect(mirrored.record).toEqual(stored);
      }),
      { numRuns: 300 },
    );
    expect((await store.verify()).problems).toEqual([]);
  });

  /** One field broken in one way: the field the error must name. */
  const brokenInput: fc.Arbitrary<{ input: unknown; field: string }> = fc.oneof(
    fc
      .oneof(
        fc.constant(''),
        fc.constant('   \n\t'),
        fc.constant(42),
        fc.constant(null),
        loneSurrogate,
        fc.constant('x'.repeat(MAX_CONTENT_BYTES + 1)),
        fc.constant('€'.repeat(Math.floor(MAX_CONTENT_BYTES / 3) + 1)),
        fc.string({ unit: 'binary', minLength: 1100, maxLength: 2100 }).filter((content) => Buffer.byteLength(content) > MAX_CONTENT_BYTES),
      )
      .map((content) => ({ input: { content }, field: 'content' })),
    fc.oneof(fc.constant('tag'), fc.constant({}), fc.constant(Array.from({ length: 65 }, (_, index) => `t${index}`))).map((tags) => ({ input: { content: 'c', tags }, field: 'tags' })),
    fc
      .oneof(fc.constant(''), fc.constant(' '), fc.constant('a\0b'), loneSurrogate, fc.constant(7), fc.constant('x'.repeat(201)))
      .map((tag) => ({ input: { content: 'c', tags: ['fine', tag] }, field: 'tags[1]' })),
    fc
      .oneof(fc.constant('relative/path'), fc.constant(''), fc.constant('/a\0b'), loneSurrogate.map((s) => `/${s}`), fc.constant(5), fc.constant(`/${'p'.repeat(4_096)}`))
      .map((contextPath) => ({ input: { content: 'c', contextPath }, field: 'contextPath' })),
    fc
      .oneof(fc.string({ unit: 'binary', maxLength: 80 }).filter((layer) => !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(layer)), fc.constantFrom('../x', '..', '.', 'a/b', 'A', '-x', 'x'.repeat(65), '/etc/passwd', 'layers/../../x'))
      .map((layer) => ({ input: { content: 'c', layer }, field: 'layer' })),
    fc
      .oneof(fc.constant([1]), fc.constant('text'), fc.constant(new Date()), fc.constant(new Map()), fc.constant(null))
      .map((metadata) => ({ input: { content: 'c', metadata }, field: 'metadata' })),
    fc
      .oneof(fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY), fc.constant(undefined), fc.constant(() => 1), fc.constant(10n), fc.constant(new Date()), loneSurrogate)
      .map((value) => ({ input: { content: 'c', metadata: { nested: { bad: value } } }, field: 'metadata.nested.bad' })),
    fc.constant(null).map(() => {
      const circular: Record<string, unknown> = { name: 'loop' };
      circular['self'] = circular;
      return { input: { content: 'c', metadata: circular }, field: 'metadata.self' };
    }),
    fc.oneof(fc.constant(''), fc.constant(3), loneSurrogate, fc.constant('k'.repeat(513))).map((key) => ({ input: { content: 'c', key }, field: 'key' })),
    fc.string({ minLength: 1, maxLength: 12 }).filter((name) => !['content', 'tags', 'contextPath', 'layer', 'metadata', 'key', '__proto__'].includes(name)).map((name) => ({ input: { content: 'c', [name]: 1 }, field: name })),
  );

  it('invalid input gets a StoreValidationError naming the field, and writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(brokenInput, async ({ input, field }) => {
        const before = await records();
        const error = await store.remember(input as RememberInput).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(StoreValidationError);
        expect((error as StoreValidationError).field).toBe(field);
        expect(await records()).toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it('rememberMany with one bad item writes none of them and names the item', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(validInput, { minLength: 1, maxLength: 6 }), brokenInput, fc.nat(), async (good, { input, field }, at) => {
        const items = [...good];
        const index = at % (items.length + 1);
        items.splice(index, 0, input as RememberInput);
        const before = await records();
        const error = await store.rememberMany(items).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(StoreValidationError);
        expect((error as StoreValidationError).field).toBe(`items[${index}].${field}`);
        expect(await records()).toBe(before);
      }),
      { numRuns: 150 },
    );
  });

  it('recall takes any words as text (no query syntax), and its filters match a reference filter', async () => {
    const dir = join(base, 'recall');
    const small = await openStore({ dir });
    try {
      const layers = ['application', 'archive', 'notes'];
      const paths = ['/', '/a', '/a/b', '/a/b/c', '/ab', '/a-b', '/a.b', '/a0'];
      const tags = ['x', 'y', 'z', 'x y', '%', 'é'];
      const written = await small.rememberMany(
        Array.from({ length: 120 }, (_, index) => ({
          content: `entry ${index}`,
          layer: layers[index % 3] as string,
          contextPath: paths[index % paths.length] as string,
          tags: tags.filter((_, tagIndex) => (index >> tagIndex) & 1),
        })),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              query: fc.string({ unit: 'binary', maxLength: 30 }),
              tags: fc.subarray(tags, { maxLength: 3 }),
              contextPath: fc.constantFrom(...paths),
              layer: fc.constantFrom(...layers),
              limit: fc.integer({ min: 1, max: 200 }),
            },
            { requiredKeys: [] },
          ),
          async (query) => {
            let hits: MemoryRecord[];
            try {
              hits = await small.recall(query);
            } catch (error) {
              // Only a query without a single word to search for is refused, and by name.
              expect(error).toBeInstanceOf(StoreValidationError);
              expect((error as StoreValidationError).field).toBe('query');
              expect(/[\p{L}\p{N}_]/u.test(query.query ?? '')).toBe(false);
              return;
            }
            const matches = (record: MemoryRecord) =>
              (query.tags ?? []).every((tag) => record.tags.includes(tag)) &&
              (query.contextPath === undefined || query.contextPath === '/' || record.contextPath === query.contextPath || record.contextPath.startsWith(`${query.contextPath}/`)) &&
              (query.layer === undefined || record.layer === query.layer);
            for (const hit of hits) expect(matches(hit)).toBe(true);
            if (query.query === undefined) {
              const expected = written.filter(matches).sort((a, b) => b.seq - a.seq).slice(0, query.limit ?? 10).map((record) => record.id);
              expect(hits.map((hit) => hit.id)).toEqual(expected);
            }
          },
        ),
        { numRuns: 300 },
      );
    } finally {
      await small.close();
    }
  });
});

describe('fuzz: readers fed arbitrary bytes', () => {
  /** Byte offsets of the line starts of a buffer (every line, terminated or not). */
  function lineStarts(bytes: Uint8Array): number[] {
    const starts = [0];
    bytes.forEach((byte, index) => {
      if (byte === 0x0a && index + 1 < bytes.length) starts.push(index + 1);
    });
    return bytes.length === 0 ? [] : starts;
  }

  const exportLine = (id: string) =>
    `${JSON.stringify({ v: 1, id, seq: 1, content: `imported ${id}`, tags: [], contextPath: '/', layer: 'application', createdAt: '2026-01-01T00:00:00.000Z', recallCount: 0, metadata: {}, key: null })}\n`;
  const chunkOfLines = fc.array(
    fc.oneof(
      fc.uuid().map((id) => Buffer.from(exportLine(id))),
      fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
      fc.string({ maxLength: 40 }).map((text) => Buffer.from(`${text}\n`)),
      fc.constant(Buffer.from('\n')),
    ),
    { maxLength: 12 },
  );

  it('import never throws on arbitrary bytes: every line is imported, skipped, blank or reported with its number and offset', async () => {
    const dir = join(base, 'import');
    const target = await openStore({ dir });
    try {
      await fc.assert(
        fc.asyncProperty(chunkOfLines, fc.array(fc.nat({ max: 200 }), { maxLength: 4 }), async (pieces, cuts) => {
          const bytes = Buffer.concat(pieces);
          // Delivered in arbitrary chunks, as a pipe would.
          const chunks: Buffer[] = [];
          let from = 0;
          for (const cut of [...cuts].sort((a, b) => a - b)) {
            if (cut > from && cut < bytes.length) {
              chunks.push(bytes.subarray(from, cut));
              from = cut;
            }
          }
          chunks.push(bytes.subarray(from));
          const report = await target.import(chunks);
          const starts = lineStarts(bytes);
          for (const rejection of report.rejections) {
            expect(starts[rejection.lineNumber - 1]).toBe(rejection.offset);
            expect(rejection.reason.length).toBeGreaterThan(0);
          }
          const blank = starts.filter((start, index) => {
            const end = starts[index + 1] ?? bytes.length;
            return bytes.subarray(start, end).toString('utf8').trim() === '';
          }).length;
          expect(report.imported + report.skipped + report.rejected + blank).toBe(starts.length);
        }),
        { numRuns: 200 },
      );
    } finally {
      await target.close();
    }
  });

  it('a layer file full of arbitrary bytes: opening never crashes, verify reports every bad line at its offset, repair makes it clean', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(chunkOfLines, async (pieces) => {
        const dir = join(base, `layer-bytes-${round++}`);
        const seeded = await openStore({ dir });
        await seeded.rememberMany([{ content: 'one' }, { content: 'two' }]);
        await seeded.close();
        const path = join(dir, 'layers', 'application.jsonl');
        const garbage = Buffer.concat(pieces);
        writeFileSync(path, Buffer.concat([readFileSync(path), garbage]));
        const opened = await openStore({ dir });
        try {
          const report = await opened.verify();
          const bytes = readFileSync(path);
          const starts = new Set(lineStarts(bytes));
          for (const layer of report.layers) for (const bad of layer.badLines) expect(starts.has(bad.offset)).toBe(true);
          const repaired = await opened.repair();
          expect(repaired.after.problems).toEqual([]);
        } finally {
          await opened.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('fuzz: layer names and paths never lead outside the store folder', () => {
  it('whatever the layer name or context path, every file memhub creates is inside its folder', async () => {
    const outside = join(base, 'outside');
    const dir = join(outside, 'store');
    const confined = await openStore({ dir });
    const filesUnder = (folder: string): string[] =>
      readdirSync(folder).flatMap((entry) => {
        const path = join(folder, entry);
        return statSync(path).isDirectory() ? [path, ...filesUnder(path)] : [path];
      });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('../x', '../../etc/passwd', 'a/../../b', '..', '.', '/abs', 'x\0y', 'layers/../x', '%2e%2e', 'con')),
          fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('/../../etc', '/..', '/a/../../..')),
          async (layer, contextPath) => {
            for (const attempt of [
              () => confined.remember({ content: 'probe', layer, contextPath: contextPath.startsWith('/') ? contextPath : `/${contextPath}` }),
              () => confined.recall({ layer }),
              () => confined.readFromMirror(layer, 'some-id'),
            ]) {
              try {
                await attempt();
              } catch (error) {
                expect(error).toBeInstanceOf(StoreValidationError);
              }
            }
            for (const path of filesUnder(outside)) expect(relative(dir, path).startsWith('..'), path).toBe(false);
          },
        ),
        { numRuns: 300 },
      );
    } finally {
      await confined.close();
    }
  });
});
