// Ingesting a JSONL file with several worker processes, through the command line.
//
//   pnpm --filter @memhub/examples ingest            (from the repository root)
//
// Writes 10,000 remember inputs, 10 of them deliberately bad, to .memhub/ingest-demo/notes.jsonl
// (in the folder where you run it), then runs
//
//   memhub ingest notes.jsonl --workers 4 --rejects rejects.jsonl --json
//
// and prints its summary: the good lines are stored by four processes at once, the bad ones are
// reported with their line numbers. Then it runs the same ingest again: every line has a key, so
// nothing is stored twice.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const LINES = 10_000;
const BAD = 10;
const WORKERS = 4;

interface IngestSummary {
  lines: number;
  ingested: number;
  rejected: number;
  added: number;
  storeRecordsAfter: number;
  seconds: number;
  recordsPerSecond: number;
}

/** Runs the `memhub` command (this workspace's @memhub/cli) and resolves with its JSON summary. */
function memhub(args: readonly string[]): Promise<IngestSummary> {
  const bin = fileURLToPath(import.meta.resolve('@memhub/cli/bin'));
  // The same Node options as this process (tsx, the source condition), so the CLI runs the same way.
  const child = spawn(process.execPath, [...process.execArgv, bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolveSummary, reject) =>
    child.on('close', (code) => (code === 0 ? resolveSummary(JSON.parse(output) as IngestSummary) : reject(new Error(`memhub ${args[0]} exited with ${code}`)))),
  );
}

function printSummary(title: string, summary: IngestSummary): void {
  console.log(
    `${title}: ${summary.lines} lines, ${summary.ingested} ingested, ${summary.rejected} rejected, ` +
      `+${summary.added} records (now ${summary.storeRecordsAfter}) in ${summary.seconds.toFixed(1)} s, ${summary.recordsPerSecond} records/s`,
  );
}

const folder = resolve(process.env['INIT_CWD'] ?? process.cwd(), '.memhub', 'ingest-demo');
rmSync(folder, { recursive: true, force: true });
mkdirSync(folder, { recursive: true });
const input = join(folder, 'notes.jsonl');
const rejects = join(folder, 'rejects.jsonl');
const store = join(folder, 'store');

const lines: string[] = [];
for (let line = 1; line <= LINES; line += 1) {
  const bad = line % (LINES / BAD) === 0 ? line / (LINES / BAD) : 0;
  if (bad > 0) lines.push(bad % 2 === 0 ? '{"content": ""}' : '{ not json');
  else lines.push(JSON.stringify({ content: `observation ${line}: queue depth ${line % 97}`, tags: ['ingest-demo', `shard-${line % 4}`], key: `observation-${line}` }));
}
writeFileSync(input, `${lines.join('\n')}\n`);
console.log(`wrote ${LINES} lines (${BAD} bad) to ${input}\n`);

const args = ['ingest', input, '--workers', String(WORKERS), '--rejects', rejects, '--dir', store, '--json'];
const first = await memhub(args);
printSummary('first run', first);
const again = await memhub(args);
printSummary('same file again', again);

const rejected = readFileSync(rejects, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { line: number; reason: string });
console.log(`\nrejects in ${rejects}:`);
for (const reject of rejected.sort((a, b) => a.line - b.line).slice(0, 3)) console.log(`  line ${reject.line}: ${reject.reason}`);
if (rejected.length > 3) console.log(`  ... ${rejected.length - 3} more`);

const expected = LINES - BAD;
const ok = first.added === expected && first.rejected === BAD && again.added === 0 && again.storeRecordsAfter === expected && rejected.length === BAD;
console.log(ok ? `\nOK: ${expected} records, ${BAD} bad lines reported, nothing stored twice.` : '\nFAIL: the store does not hold exactly the good lines.');
if (!ok) process.exitCode = 1;
