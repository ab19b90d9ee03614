import { Command } from 'commander';
import type { VerifyReport } from '@memhub/store';
import { withHelp } from '../command-help.js';
import { ExitCode } from '../exit-codes.js';
import { formatCount } from '../format.js';
import { Output } from '../output.js';
import { addJsonOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';
import type { CommandResult } from '../command-result.js';

/** `memhub verify`: checks the store without changing it; exit 3 when it finds problems. */
export function verifyCommand(result: CommandResult): Command {
  const command = new Command('verify').summary('check the store without changing it (exit 3 on problems)')
    .description(
    'check the store without changing it: database integrity, full-text index, tags, and each layer mirror against the database',
  );
  addJsonOption(addStoreOptions(command));
  withHelp(
    command,
    ['memhub verify || memhub repair'],
    'Exit codes: 0 no problem found, 3 problems found (listed), 1 failure, 2 usage error',
  );
  return command.action(async (options: { json?: boolean; debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    let report: VerifyReport;
    try {
      report = await store.verify();
    } finally {
      await store.close();
    }
    const output = new Output({ json: options.json === true });
    if (output.json) output.data(report);
    else printVerifyReport(output, report);
    if (!report.ok) result.exitCode = ExitCode.problemsFound;
  });
}

/** A verify report for people: a line per layer, then every problem. */
export function printVerifyReport(output: Output, report: VerifyReport): void {
  const { green, red, dim } = output.colors;
  output.line(`${formatCount(report.records)} records in ${report.location} ${dim(`(${report.engine})`)}`);
  if (report.layers.length > 0) {
    output.table(
      ['layer mirror', 'records', 'mirrored', 'missing', 'extra', 'different', 'bad lines', 'index'],
      report.layers.map((layer) => [
        layer.layer,
        formatCount(layer.records),
        formatCount(layer.mirrored),
        String(layer.missingCount),
        String(layer.extraCount),
        String(layer.differentCount),
        String(layer.badLineCount),
        layer.index.ok ? 'ok' : (layer.index.problem ?? 'stale'),
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    );
  }
  if (report.ok) {
    output.line(green('ok: no problem found'));
    return;
  }
  output.line(red(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} found:`));
  for (const problem of report.problems) output.line(`  ${problem.kind}${problem.layer === undefined ? '' : ` (${problem.layer})`}: ${problem.message}`);
  output.line(dim('memhub repair fixes these from the database.'));
}
