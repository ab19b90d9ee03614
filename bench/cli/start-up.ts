// `pnpm bench:cli`: how long the built `memhub` bin takes to answer --version, --help, a
// command's --help, and a command that opens a store, beside `node -e 0` measured in the same run
// (the floor no Node program goes below on this machine at this moment). Prints a table; asserts
// nothing about time. Build first (`pnpm build`): it runs what a user runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from '../shared/machine.js';
import { scriptArguments } from '../shared/script-arguments.js';
import { median, percentileOfSorted } from '../shared/statistics.js';
import { formatTable } from '../shared/text-table.js';

const { values } = parseArgs({ args: scriptArguments(), options: { runs: { type: 'string', default: '21' } } });
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 3) throw new Error(`--runs: expected an integer of at least 3, got ${values.runs}`);

const bin = fileURLToPath(new URL('../../packages/cli/bin/memhub.js', import.meta.url));
if (!existsSync(fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url)))) {
  throw new Error('the CLI is not built: run `pnpm build` first');
}
const folder = mkdtempSync(join(tmpdir(), 'memhub-bench-cli-'));
const store = join(folder, 'store');

const cases: readonly (readonly [string, readonly string[]])[] = [
  ['node -e 0 (the floor)', ['-e', '0']],
  ['memhub --version', [bin, '--version']],
  ['memhub --help', [bin, '--help']],
  ['memhub recall --help', [bin, 'recall', '--help']],
  ['memhub stats (opens a store)', [bin, 'stats', '--dir', store]],
];

function timeOnce(args: readonly string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}: ${result.stderr.toString()}`);
  return elapsed;
}

spawnSync(process.execPath, [bin, 'remember', 'a store for the stats row', '--dir', store], { stdio: 'ignore' });
// Interleaved, one run of each case per round, so that a change in the machine's load touches every row alike.
const times = new Map(cases.map(([name]) => [name, [] as number[]]));
for (let round = 0; round < runs; round += 1) {
  for (const [name, args] of cases) times.get(name)!.push(timeOnce(args));
}
rmSync(folder, { recursive: true, force: true });

const floor = median(times.get(cases[0]![0])!);
const rows = cases.map(([name]) => {
  const sorted = [...times.get(name)!].sort((left, right) => left - right);
  const middle = median(sorted);
  return [name, `${middle.toFixed(0)} ms`, `${percentileOfSorted(sorted, 90).toFixed(0)} ms`, `${(middle - floor).toFixed(0)} ms`];
});
console.log(describeMachine(tmpdir()).join('\n'));
console.log(`\n${runs} runs of each, interleaved\n`);
console.log(
  formatTable(
    [
      { heading: 'command', align: 'left' },
      { heading: 'median', align: 'right' },
      { heading: 'p90', align: 'right' },
      { heading: 'median above node -e 0', align: 'right' },
    ],
    rows,
  ),
);
