import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { CommandFailedError } from '../errors.js';
import { formatCount } from '../format.js';
import { Output } from '../output.js';
import { addJsonOption, addStoreOptions, storeFolder } from '../store-target.js';

/** `memhub rebuild`: recreates memory.db from the JSONL layer mirrors. */
export function rebuildCommand(): Command {
  const command = new Command('rebuild')
    .summary('recreate memory.db from the JSONL layer mirrors')
    .description(
      'recreate memory.db from the JSONL layer mirrors (layers/*.jsonl); stop every process using the store first. The old database files are renamed beside it, never deleted',
    )
    .option('--force', 'replace a database that is healthy and holds records');
  addJsonOption(addStoreOptions(command));
  withHelp(command, ['memhub rebuild --dir ./memory', 'memhub rebuild --dir ./memory --force']);
  return command.action(async (options: { force?: boolean; json?: boolean }, self: Command) => {
    const dir = storeFolder(self, 'rebuild');
    const { rebuildFromMirror, StoreRebuildRefusedError } = await import('@memhub/store');
    const report = await rebuildFromMirror(dir, { force: options.force === true }).catch((error: unknown) => {
      // The library's message names its option ({ force: true }); here the flag is --force.
      if (error instanceof StoreRebuildRefusedError && error.reason === 'healthy') {
        throw new CommandFailedError(`${dir}/memory.db is healthy and holds records; add --force to replace it (the old file is kept, renamed beside it)`, { cause: error });
      }
      throw error;
    });
    const output = new Output({ json: options.json === true });
    if (output.json) {
      output.data(report);
      return;
    }
    output.line(`rebuilt ${dir}/memory.db: ${formatCount(report.records)} records, last seq ${report.lastSeq}`);
    for (const layer of report.layers) {
      output.line(`  layers/${layer.layer}.jsonl: ${formatCount(layer.lines)} lines${layer.skippedLines > 0 ? `, ${formatCount(layer.skippedLines)} skipped (kept in layers/${layer.layer}.jsonl.quarantine)` : ''}`);
      for (const bad of layer.badLines) output.line(`    line ${bad.lineNumber} (byte ${bad.offset}): ${bad.kind}: ${bad.reason}`);
      if (layer.skippedLines > layer.badLines.length) output.line(`    and ${formatCount(layer.skippedLines - layer.badLines.length)} more`);
    }
    for (const moved of report.movedAside) output.line(`kept the old file as ${moved}`);
  });
}
