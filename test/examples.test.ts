import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

/** `it` with a fresh temp folder for each example, removed after it (safe in concurrent tests). */
const test = it.extend<{ folder: string }>({
  folder: async ({}, use) => {
    const folder = mkdtempSync(join(tmpdir(), 'memhub-examples-'));
    try {
      await use(folder);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
});

/**
 * Runs an example as its package script does, from the sources, with INIT_CWD (where pnpm says
 * the user typed the command, and where the examples put their .memhub folder) in `folder`.
 */
function runExample(file: string, folder: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@memhub/source', '--import', 'tsx', file], {
      cwd: EXAMPLES,
      env: { ...process.env, INIT_CWD: folder },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Each example has a folder of its own and measures nothing: they run concurrently.
describe.concurrent('the examples run to completion and show that nothing was lost', { timeout: 180_000 }, () => {
  test('basic: open, remember, recall, close', async ({ folder, expect }) => {
    const run = await runExample('basic.ts', folder);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('records in the store: 3');
    expect(run.stdout).toMatch(/^OK$/m);
  });

  test(
    'agents: four processes remember and recall on one store',
    async ({ folder, expect }) => {
      const run = await runExample('agents.ts', folder);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('in the store: 2000 records (expected 2000), 0 missing');
      expect(run.stdout).toContain('OK: nothing lost, nothing doubled.');
    },
    180_000,
  );

  test(
    'workers: four worker threads remember and recall on one store',
    async ({ folder, expect }) => {
      const run = await runExample('workers.ts', folder);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('acknowledged: 2000 distinct records; in the store: 2000 (expected 2000), 0 missing, 0 not acknowledged');
      expect(run.stdout).toContain('OK: nothing lost, nothing doubled.');
    },
    180_000,
  );

  test(
    'ingest: a generated JSONL file, ingested by four worker processes through the CLI, twice',
    async ({ folder, expect }) => {
      const run = await runExample('ingest.ts', folder);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^first run: 10000 lines, 9990 ingested, 10 rejected, \+9990 records \(now 9990\)/m);
      expect(run.stdout).toMatch(/^same file again: 10000 lines, 9990 ingested, 10 rejected, \+0 records \(now 9990\)/m);
      expect(run.stdout).toContain('OK: 9990 records, 10 bad lines reported, nothing stored twice.');
      // The CLI reported each bad line on stderr, with its line number, in both runs.
      expect(run.stderr.match(/^line \d+000: /gm)).toHaveLength(20);
    },
    240_000,
  );
});
