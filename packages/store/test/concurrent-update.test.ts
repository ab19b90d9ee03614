import { expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { startStoreFixture, type FixtureProcess } from './support/processes.js';

interface WriterReport {
  readonly written: readonly { readonly seq: number; readonly ifSeq?: number; readonly content: string }[];
  readonly conflicts: readonly { readonly ifSeq: number; readonly currentSeq: number }[];
}

const PROCESSES = 8;
const UPDATES_EACH = 25;

/** Starts the writers, lets them go at once, and collects their reports. */
async function runWriters(target: string, id: string, mode: 'cas' | 'plain'): Promise<WriterReport[]> {
  const writers: FixtureProcess[] = Array.from({ length: PROCESSES }, (_, index) => startStoreFixture('updating-writer.ts', [target, id, String(UPDATES_EACH), `w${index}`, mode]));
  await Promise.all(writers.map((writer) => writer.waitForLine('ready')));
  for (const writer of writers) writer.send('go');
  return Promise.all(
    writers.map(async (writer) => {
      const line = await Promise.race([writer.waitForLine('done', 180_000), writer.waitForLine('error', 180_000)]);
      expect(line, writer.stderr).toMatch(/^done /);
      return JSON.parse(line.slice('done '.length)) as WriterReport;
    }),
  );
}

describeEachEngine('concurrent updates of one record from 8 processes', (engine) => {
  it('every version is in the history, exactly one final content, and every ifSeq conflict is accounted for', { timeout: 300_000 }, async () => {
    const place = engine.place();
    const target = 'dir' in place.target && place.target.dir !== undefined ? place.target.dir : JSON.stringify(place.target);
    const store = await place.open();
    const record = await store.remember({ content: 'the first version', key: 'contended' });

    // Compare-and-set: each writer reads the record, then updates it only if it is still at that seq.
    const casReports = await runWriters(target, record.id, 'cas');
    const afterCas = await store.history(record.id);
    expect(afterCas).toHaveLength(1 + PROCESSES * UPDATES_EACH);
    const writtenBySeq = new Map(casReports.flatMap((report) => report.written.map((update) => [update.seq, update] as const)));
    expect(writtenBySeq.size).toBe(PROCESSES * UPDATES_EACH);
    // Each version after the first was written by the one update that had read the version before it.
    for (let index = 1; index < afterCas.length; index += 1) {
      const version = afterCas[index]!;
      const update = writtenBySeq.get(version.seq);
      expect(update, `version ${version.seq}`).toBeDefined();
      expect(update?.content).toBe(version.content);
      expect(update?.ifSeq).toBe(afterCas[index - 1]!.seq);
    }
    // Every conflict tried a version that had been replaced, and was told a later one.
    const versionSeqs = afterCas.map((version) => version.seq);
    for (const conflict of casReports.flatMap((report) => report.conflicts)) {
      expect(versionSeqs).toContain(conflict.ifSeq);
      expect(versionSeqs).toContain(conflict.currentSeq);
      expect(conflict.currentSeq).toBeGreaterThan(conflict.ifSeq);
    }

    // Without ifSeq: the last to commit wins, and no version is lost.
    const plainReports = await runWriters(target, record.id, 'plain');
    const history = await store.history(record.id);
    expect(history).toHaveLength(1 + 2 * PROCESSES * UPDATES_EACH);
    const plainSeqs = plainReports.flatMap((report) => report.written.map((update) => update.seq)).sort((a, b) => a - b);
    expect(history.slice(afterCas.length).map((version) => version.seq)).toEqual(plainSeqs);
    for (const report of plainReports) {
      // Each writer's own updates appear in its order.
      const contents = history.slice(afterCas.length).map((version) => version.content).filter((content) => report.written.some((update) => update.content === content));
      expect(contents).toEqual(report.written.map((update) => update.content));
    }
    const final = await store.get(record.id);
    expect(final?.content).toBe(history.at(-1)?.content);
    expect(final?.seq).toBe(history.at(-1)?.seq);
    expect((await store.stats()).records).toBe(1);
    expect((await store.recall({ query: final?.content.split(' ')[0] ?? '', count: false })).map((hit) => hit.id)).toEqual([record.id]);
    expect((await store.verify()).ok).toBe(true);
  });
});
