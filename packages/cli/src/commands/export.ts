import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { UsageError } from '../errors.js';
import { outputPath } from '../input-files.js';
import { Output } from '../output.js';
import { addJsonOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

/** Records between two progress updates: often enough for the bar, cheap beside the lines written. */
const PROGRESS_EVERY_RECORDS = 500;

/** `memhub export [file|-]`: every record as NDJSON, in write order; progress on stderr. */
export function exportCommand(): Command {
  const command = new Command('export')
    .summary('write every record as NDJSON to a file or stdout')
    .description('write every record as NDJSON (one JSON object a line, in write order) to a file or stdout')
    .argument('[file]', 'the file to write (overwritten), or - for stdout', '-');
  addJsonOption(addStoreOptions(command));
  withHelp(command, ['memhub export memory.ndjson', 'memhub export | gzip > memory.ndjson.gz', 'memhub export - --dir ./a | memhub import - --dir ./b']);
  return command.action(async (file: string, options: { json?: boolean; debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const toStdout = file === '-';
    if (toStdout && options.json === true) throw new UsageError('export - writes the records to stdout; --json (a summary on stdout) needs a file to export to');
    const path = toStdout ? undefined : outputPath(file, 'export');
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    let exported = 0;
    try {
      const { ProgressReporter } = await import('../progress-reporter.js');
      // The count as export starts: a share and an ETA to go by (writers may add records meanwhile).
      const total = (await store.stats()).records;
      const progress = new ProgressReporter(process.stderr, { label: 'export', total, totalName: 'of the records' });
      const counted = async function* () {
        for await (const line of store.export()) {
          exported += 1;
          if (exported % PROGRESS_EVERY_RECORDS === 0) progress.update({ records: exported, done: exported });
          yield line;
        }
      };
      // Through a pipeline so that a slow reader (a pipe, a disk) holds the export back instead of it piling up in memory.
      await pipeline(Readable.from(counted()), path === undefined ? process.stdout : createWriteStream(path), path === undefined ? { end: false } : {}).finally(() =>
        progress.stop(),
      );
    } finally {
      await store.close();
    }
    const output = new Output({ json: options.json === true });
    if (output.json) output.data({ exported, file: path });
    else output.note(`exported ${exported} record${exported === 1 ? '' : 's'}${path === undefined ? '' : ` to ${path}`}`);
  });
}
