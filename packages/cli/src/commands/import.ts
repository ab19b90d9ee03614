import { Command } from 'commander';
import type { ImportRejection } from '@memhub/store';
import { withHelp } from '../command-help.js';
import { inputSource, outputPath, RejectsFile } from '../input-files.js';
import { Output } from '../output.js';
import { addJsonOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

/** `memhub import <file|->`: reads what export wrote; records already in the store are skipped. */
export function importCommand(): Command {
  const command = new Command('import')
    .summary('read records that export wrote; a re-run is safe')
    .description('read records that export wrote (ids, times, recall counts and keys kept); records already in the store are skipped, so a re-run is safe')
    .argument('<file>', 'an NDJSON file from export, or - for stdin')
    .option('--rejects <file>', 'also write each bad line to this file, as JSON lines {"line","offset","reason"}');
  addJsonOption(addStoreOptions(command));
  withHelp(command, ['memhub import memory.ndjson --dir ./restored', 'memhub export --dir ./a | memhub import - --dir ./b --rejects bad.jsonl']);
  return command.action(async (file: string, options: { rejects?: string; json?: boolean; debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const source = inputSource(file);
    const rejectsPath = options.rejects === undefined ? undefined : outputPath(options.rejects, '--rejects');
    const output = new Output({ json: options.json === true });
    const store = await openTargetStore(target, { mustExist: false, debug: options.debug === true });
    const rejects = rejectsPath === undefined ? undefined : new RejectsFile(rejectsPath);
    try {
      const onReject = (rejection: ImportRejection) => {
        output.note(`line ${rejection.lineNumber}: ${rejection.reason}`);
        rejects?.add({ line: rejection.lineNumber, offset: rejection.offset, reason: rejection.reason });
      };
      const report = await store.import(source.open(), { onReject });
      const summary = { imported: report.imported, skipped: report.skipped, rejected: report.rejected, rejectsFile: rejectsPath };
      if (output.json) output.data(summary);
      else {
        output.line(
          `imported ${report.imported}, skipped ${report.skipped} already in the store, rejected ${report.rejected}` +
            (report.rejected > 0 ? ` (listed above${rejectsPath === undefined ? '' : ` and in ${rejectsPath}`})` : ''),
        );
      }
    } finally {
      await rejects?.close();
      await store.close();
    }
  });
}
