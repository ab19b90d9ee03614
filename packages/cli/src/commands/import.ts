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
        rejects?.add({ line: rejection.lineNumber, offset: rejection.offset, reason: rejection.reason });
      };
      const { ProgressReporter } = await import('../progress-reporter.js');
      const progress = new ProgressReporter(process.stderr, { label: 'import', total: source.bytes, totalName: 'of the input', countsRejected: true });
      let bytesRead = 0;
      // The bytes as they pass, for the share of the input done (the store counts lines, not bytes).
      const counted = async function* (input: AsyncIterable<Buffer | string>) {
        for await (const chunk of input) {
          bytesRead += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
          yield chunk;
        }
      };
      const report = await store
        .import(counted(source.open()), {
          onReject: (rejection) => {
            progress.log(`line ${rejection.lineNumber}: ${rejection.reason}`);
            onReject(rejection);
          },
          onProgress: (totals) => progress.update({ records: totals.imported + totals.skipped, rejected: totals.rejected, done: bytesRead }),
        })
        .finally(() => progress.stop());
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
