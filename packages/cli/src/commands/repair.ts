import { Command } from 'commander';
import type { RepairReport } from '@memhub/store';
import type { CommandResult } from '../command-result.js';
import { withHelp } from '../command-help.js';
import { ExitCode } from '../exit-codes.js';
import { Output } from '../output.js';
import { addJsonOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';
import { printVerifyReport } from './verify.js';

/** `memhub repair`: fixes what verify finds, from the database, then verifies again. */
export function repairCommand(result: CommandResult): Command {
  const command = new Command('repair').summary('fix what verify finds, from the database, then verify again')
    .description(
    'fix what verify finds, from the database: rebuild the full-text index and tag rows, quarantine bad mirror lines and rewrite those layer files, re-index; then verify again',
  );
  addJsonOption(addStoreOptions(command));
  withHelp(command, ['memhub repair --json | jq .actions'], 'Exit codes: 0 the store verifies clean afterwards, 3 problems remain (listed), 1 failure, 2 usage error');
  return command.action(async (options: { json?: boolean; debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    let report: RepairReport;
    try {
      report = await store.repair();
    } finally {
      await store.close();
    }
    const output = new Output({ json: options.json === true });
    if (output.json) output.data(report);
    else {
      if (report.actions.length === 0) output.line('nothing to repair');
      for (const action of report.actions) output.line(`repaired: ${action}`);
      output.line();
      printVerifyReport(output, report.after);
    }
    if (!report.after.ok) result.exitCode = ExitCode.problemsFound;
  });
}
