import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openStore } from '@memhub/store';
import type { IngestSummary } from '../src/index.js';
import { cleanEnvironment, memhubArgs, recordCount, runMemhub, useTempFolder } from './support/memhub-process.js';

const temp = useTempFolder('memhub-cli-ingest-');

/** Bad lines of every kind, each with the reason the rejects must give. */
const BAD_LINES: readonly (readonly [string, RegExp])[] = [
  ['{not json', /^not JSON: /],
  ['{"content": ""}', /^Invalid content: is empty$/],
  ['{"content": "x", "layer": "../x"}', /^Invalid layer: "\.\.\/x" is not a layer name/],
  ['[1, 2]', /^expected a JSON object/],
  ['{"content": "x", "colour": "red"}', /^Invalid colour: is not a field of a memory record$/],
  ['{"content": 42}', /^Invalid content: expected a string, got number 42$/],
  ['{"tags": ["only tags"]}', /^Invalid content: expected a string/],
  ['{"content": "x", "contextPath": "relative/path"}', /^Invalid contextPath: "relative\/path" is not absolute/],
  ['{"content": "x", "tags": "a,b"}', /^Invalid tags: expected an array of strings/],
  ['{"content": "x", "metadata": [1]}', /^Invalid metadata: expected a plain object/],
];

interface Reject {
  line: number;
  reason: string;
  text: string;
}

/**
 * Writes a JSONL file of `lines` remember inputs, each with a key, with bad lines at `badLines`
 * (1-based line numbers). Returns what a correct ingest must do with it.
 */
function writeInput(path: string, lines: number, badLines: readonly number[]): { goodKeys: Set<string>; bad: Map<number, RegExp> } {
  const bad = new Map<number, RegExp>();
  const goodKeys = new Set<string>();
  const text: string[] = [];
  badLines.forEach((lineNumber, index) => {
    const [line, reason] = BAD_LINES[index % BAD_LINES.length]!;
    bad.set(lineNumber, reason);
    text[lineNumber - 1] = line;
  });
  for (let lineNumber = 1; lineNumber <= lines; lineNumber += 1) {
    if (bad.has(lineNumber)) continue;
    const key = `note-${lineNumber}`;
    goodKeys.add(key);
    text[lineNumber - 1] = JSON.stringify({ content: `note ${lineNumber}: the ingest keeps every good line`, tags: [`tag-${lineNumber % 7}`], contextPath: `/ingest/${lineNumber % 3}`, key });
  }
  writeFileSync(path, `${text.join('\n')}\n`);
  return { goodKeys, bad };
}

/** Every key in the store, and how many records carry each. */
async function keysInStore(dir: string): Promise<Map<string, number>> {
  const store = await openStore({ dir });
  const keys = new Map<string, number>();
  try {
    for await (const line of store.export()) {
      const { key } = JSON.parse(line) as { key: string };
      keys.set(key, (keys.get(key) ?? 0) + 1);
    }
  } finally {
    await store.close();
  }
  return keys;
}

function stderrRejects(stderr: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const match of stderr.matchAll(/^line (\d+): (.*)$/gm)) found.set(Number(match[1]), match[2]!);
  return found;
}

/**
 * Lines of the large ingest: 20 batches of the default 500 lines, so that each of 4 workers, with
 * 2 batches in flight, takes several in turn.
 */
const LINES = 10_000;
const GOOD_LINES = LINES - 50;

describe('memhub ingest: several worker processes, one store', { timeout: 180_000 }, () => {
  it(
    '10,000 lines with 50 bad ones, 4 workers: exactly 9,950 records, the 50 rejects with their line numbers; the same ingest again adds nothing',
    async () => {
      const input = temp.file('notes.jsonl');
      const badLines = [1, ...Array.from({ length: 48 }, (_, index) => 17 + index * 205), LINES];
      expect(new Set(badLines).size).toBe(50);
      const { goodKeys, bad } = writeInput(input, LINES, badLines);
      const dir = temp.file('store');
      const rejectsFile = temp.file('rejects.jsonl');

      const first = await runMemhub(['ingest', input, '--workers', '4', '--dir', dir, '--rejects', rejectsFile, '--json'], { timeoutMs: 240_000 });
      expect(first.code, first.stderr).toBe(0);
      const summary = JSON.parse(first.stdout) as IngestSummary;
      expect(summary).toMatchObject({
        workers: 4,
        lines: LINES,
        ingested: GOOD_LINES,
        rejected: 50,
        blank: 0,
        storeRecordsBefore: 0,
        storeRecordsAfter: GOOD_LINES,
        added: GOOD_LINES,
        complete: true,
        failures: [],
        rejectsFile,
      });

      // Each bad line: on stderr and in the rejects file, with its line number, reason and text, in
      // line order, whichever worker met it first.
      const onStderr = stderrRejects(first.stderr);
      expect([...onStderr.keys()]).toEqual(badLines);
      const inFile = readFileSync(rejectsFile, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Reject);
      expect(inFile.map((reject) => reject.line)).toEqual(badLines);
      const inputLines = readFileSync(input, 'utf8').split('\n');
      for (const reject of inFile) {
        expect(reject.reason, `line ${reject.line}`).toMatch(bad.get(reject.line)!);
        expect(reject.text).toBe(inputLines[reject.line - 1]);
        expect(onStderr.get(reject.line)).toBe(reject.reason);
      }

      // Exactly the good lines, each once.
      const keys = await keysInStore(dir);
      expect(keys.size).toBe(GOOD_LINES);
      expect([...keys.keys()].every((key) => goodKeys.has(key))).toBe(true);
      expect([...keys.values()].every((count) => count === 1)).toBe(true);

      // The same ingest again (from stdin this time): the keys are in the store, nothing is added.
      const again = await runMemhub(['ingest', '-', '--workers', '4', '--dir', dir, '--json'], { input: readFileSync(input, 'utf8'), timeoutMs: 240_000 });
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ lines: LINES, ingested: GOOD_LINES, rejected: 50, storeRecordsBefore: GOOD_LINES, storeRecordsAfter: GOOD_LINES, added: 0, complete: true });
      expect(stderrRejects(again.stderr).size).toBe(50);
      expect(await recordCount(dir)).toBe(GOOD_LINES);
      expect((await runMemhub(['verify', '--dir', dir])).code).toBe(0);
    },
    360_000,
  );

  it(
    'workers killed right after a commit: exit code 1 and the summary says so; running the ingest again completes it, nothing doubled',
    async () => {
      const input = temp.file('notes.jsonl');
      const { goodKeys } = writeInput(input, 3_000, []);
      const dir = temp.file('store');
      // Each worker kills itself (SIGKILL) just after its first batch commits, before it is told.
      const interrupted = await runMemhub(['ingest', input, '--workers', '3', '--batch-size', '100', '--dir', dir, '--json'], {
        env: { MEMHUB_FAULT: 'after-commit' },
        timeoutMs: 120_000,
      });
      expect(interrupted.code).toBe(1);
      const summary = JSON.parse(interrupted.stdout) as IngestSummary;
      expect(summary.complete).toBe(false);
      expect(summary.failures).toHaveLength(3);
      expect(summary.failures[0]).toMatch(/^worker \d \(pid \d+\): exited with SIGKILL$/);
      expect(interrupted.stderr).toMatch(/^memhub: ingest incomplete: .*Run it again: lines with a "key" are not stored twice$/m);
      const written = await recordCount(dir);
      expect(written).toBeGreaterThanOrEqual(100);
      expect(written).toBeLessThan(3_000);

      const resumed = await runMemhub(['ingest', input, '--workers', '3', '--batch-size', '100', '--dir', dir, '--json'], { timeoutMs: 120_000 });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout)).toMatchObject({ ingested: 3_000, rejected: 0, storeRecordsBefore: written, storeRecordsAfter: 3_000, added: 3_000 - written });
      const keys = await keysInStore(dir);
      expect(keys.size).toBe(3_000);
      expect([...keys.keys()].every((key) => goodKeys.has(key))).toBe(true);
      expect([...keys.values()].every((count) => count === 1)).toBe(true);
      expect((await runMemhub(['verify', '--dir', dir])).code).toBe(0);
    },
    240_000,
  );

  it(
    'Ctrl-C: the batches in flight are finished, the summary says what was done (--json too), exit code 130, and --from-line finishes the job exactly, keys or not',
    async () => {
      const dir = temp.file('store');
      // No keys: a plain re-run would store the first lines twice; --from-line must not.
      const line = (number: number) => JSON.stringify({ content: `unkeyed note ${number}`, tags: ['interrupted'] });
      const all = Array.from({ length: 1_500 }, (_, index) => line(index + 1));
      // Its own process group, so that the signal reaches the workers too, as a terminal's Ctrl-C does.
      const child = spawn(process.execPath, memhubArgs(['ingest', '-', '--workers', '3', '--batch-size', '100', '--dir', dir, '--json']), {
        env: cleanEnvironment({ MEMHUB_PROGRESS_INTERVAL_MS: '1' }),
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const progressed = new Promise<void>((resolve) => {
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          // Stderr is not a terminal: plain progress lines. 1,000 records written: the ten batches handed out are done.
          if (/^memhub ingest: 1,000 records, /m.test(stderr)) resolve();
        });
      });
      const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // 1,000 lines (ten batches) and 50 more, fewer than a batch: read, never handed out.
      child.stdin.write(`${all.slice(0, 1_050).join('\n')}\n`);
      await progressed;
      process.kill(-child.pid!, 'SIGINT');
      const code = await closed;
      child.stdin.destroy();

      expect(code, stderr).toBe(130);
      const summary = JSON.parse(stdout) as IngestSummary;
      expect(summary).toMatchObject({ lines: 1_050, ingested: 1_000, added: 1_000, complete: false, interrupted: true, resumeFromLine: 1_001, failures: [] });
      expect(stderr).toContain('memhub ingest: interrupted; finishing the batches in flight');
      expect(stderr).toMatch(/^memhub: ingest interrupted after 1,000 lines ingested\. To finish, run the same command with --from-line 1001 \(with the same input on stdin\)/m);
      expect(await recordCount(dir)).toBe(1_000);

      const finished = await runMemhub(['ingest', '-', '--workers', '3', '--batch-size', '100', '--from-line', '1001', '--dir', dir, '--json'], { input: `${all.join('\n')}\n` });
      expect(finished.code, finished.stderr).toBe(0);
      expect(JSON.parse(finished.stdout)).toMatchObject({ fromLine: 1_001, lines: 500, ingested: 500, added: 500, complete: true, interrupted: false, resumeFromLine: null });
      const contents = new Map<string, number>();
      const store = await openStore({ dir });
      try {
        for await (const exported of store.export()) {
          const { content } = JSON.parse(exported) as { content: string };
          contents.set(content, (contents.get(content) ?? 0) + 1);
        }
      } finally {
        await store.close();
      }
      expect(contents.size).toBe(1_500);
      expect([...contents.values()].every((count) => count === 1)).toBe(true);
    },
    120_000,
  );

  it('prints a summary for people; blank lines from stdin are skipped, not rejected', async () => {
    const input = ['{"content":"first","key":"a"}', '', '{"content":"second","key":"b"}', 'oops', ''].join('\n');
    const run = await runMemhub(['ingest', '-', '--workers', '2', '--dir', temp.file('store')], { input });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^4 lines: 2 ingested, 1 rejected, 1 blank in [\d.]+ s with 2 workers/);
    expect(run.stdout).toContain('the store went from 0 to 2 records (+2)');
    expect(run.stderr).toMatch(/^line 4: not JSON: /m);
    expect(await recordCount(temp.file('store'))).toBe(2);
  });
});
