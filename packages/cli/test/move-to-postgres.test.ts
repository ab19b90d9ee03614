import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { openStore, type MemoryRecord } from '@memhub/store';
import { describePostgres, dropSchema, freshSchemaName, postgres } from '../../store/test/support/postgres.js';
import type { StatsReport } from '../src/index.js';
import { cleanEnvironment, memhubArgs, memhubJson, runMemhub, useTempFolder } from './support/memhub-process.js';

const temp = useTempFolder('memhub-cli-move-');

async function exportedRecords(args: readonly string[]): Promise<Omit<MemoryRecord, 'seq'>[]> {
  const child = spawn(process.execPath, memhubArgs(['export', ...args]), { env: cleanEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const { v: _v, seq: _seq, ...record } = JSON.parse(line) as MemoryRecord & { v: number };
      return record;
    });
}

describePostgres('moving a store from a folder to PostgreSQL', () => {
  it('memhub export | memhub import --url: one pipe, and the server holds the same records', { timeout: 120_000 }, async () => {
    const dir = temp.file('store');
    const local = await openStore({ dir });
    await local.rememberMany(
      Array.from({ length: 300 }, (_, index) => ({ content: `moving ${index}`, tags: [`t${index % 3}`], layer: index % 4 === 0 ? 'notes' : 'application', ...(index % 7 === 0 ? { key: `k${index}` } : {}) })),
    );
    await local.recall({ query: 'moving', limit: 25 });
    await local.close();

    const schema = freshSchemaName();
    try {
      // The two commands of the README, joined by a pipe as a shell would.
      const exporter = spawn(process.execPath, memhubArgs(['export', '--dir', dir]), { env: cleanEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
      const importer = spawn(process.execPath, memhubArgs(['import', '-', '--url', postgres.url, '--schema', schema, '--json']), {
        env: cleanEnvironment(),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      exporter.stdout.pipe(importer.stdin);
      let summary = '';
      let errors = '';
      importer.stdout.setEncoding('utf8').on('data', (chunk: string) => (summary += chunk));
      importer.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
      const [[exportCode], [importCode]] = await Promise.all([once(exporter, 'exit'), once(importer, 'exit')]);
      expect([exportCode, importCode], errors).toEqual([0, 0]);
      expect(JSON.parse(summary)).toMatchObject({ imported: 300, skipped: 0, rejected: 0 });

      const onServer = await exportedRecords(['--url', postgres.url, '--schema', schema]);
      expect(onServer).toEqual(await exportedRecords(['--dir', dir]));
      const hits = await memhubJson<MemoryRecord[]>(['recall', 'moving', '--tag', 't1', '--limit', '200', '--url', postgres.url, '--schema', schema]);
      expect(hits).toHaveLength(100);

      // stats shows what a PostgreSQL store has: no files, WAL, checkpoints or lock files of a folder.
      const stats = await memhubJson<StatsReport>(['stats', '--url', postgres.url, '--schema', schema]);
      expect(stats).toMatchObject({ engine: 'postgres', records: 300, recordsByLayer: { application: 225, notes: 75 }, locks: [], checkpoints: null });
      expect(stats.sizes).toMatchObject({ walBytes: null, layers: [] });
      expect(stats.sizes.databaseBytes).toBeGreaterThan(0);
      const human = await runMemhub(['stats', '--url', postgres.url, '--schema', schema]);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/^size\s+[\d.]+ (KiB|MiB) \(the tables of its schema, indexes included\)$/m);
      expect(human.stdout).not.toMatch(/memory\.db|checkpoints|layers\/|wait p50/);
    } finally {
      await dropSchema(schema);
    }
  });
});
