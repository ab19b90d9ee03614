import { Command } from 'commander';
import type { RecallQuery } from '@memhub/store';
import { withHelp } from '../command-help.js';
import { printRecords } from '../format.js';
import { Output } from '../output.js';
import { collect, integerParser, parseTime } from '../parse-values.js';
import { addJsonOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

interface RecallOptions {
  readonly tag?: string[];
  readonly contextPath?: string;
  readonly layer?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: number;
  readonly json?: boolean;
  readonly debug?: boolean;
}

/** `memhub recall [query]`: finds memories by words, tags, context path, layer and time. */
export function recallCommand(): Command {
  const command = new Command('recall')
    .summary('find memories by words, tags, context path, layer and time')
    .description('find memories: by words (best match first), tags, context path, layer and time (newest first without words)')
    .argument('[query]', 'words to search for (plain words, no query syntax)')
    .option('-t, --tag <tag>', 'only records with this tag (repeat: all of them)', collect)
    .option('-c, --context-path <path>', 'only records at this path or below it')
    .option('-l, --layer <name>', 'only this layer')
    .option('--since <time>', 'created at or after: ISO time, epoch ms, or an age such as 7d', (value: string) => parseTime(value))
    .option('--until <time>', 'created before (same forms as --since)', (value: string) => parseTime(value))
    .option('-n, --limit <n>', 'at most this many records (1 to 1000)', integerParser(1, 1000), 10);
  addJsonOption(addStoreOptions(command));
  withHelp(command, [`memhub recall "deploy node" --tag deploy --context-path /projects --limit 5`, `memhub recall --since 1d --json | jq -r '.[].content'`]);
  return command.action(async (query: string | undefined, options: RecallOptions, self: Command) => {
    const target = storeTarget(self);
    const filters: RecallQuery = {
      ...(query === undefined ? {} : { query }),
      ...(options.tag === undefined ? {} : { tags: options.tag }),
      ...(options.contextPath === undefined ? {} : { contextPath: options.contextPath }),
      ...(options.layer === undefined ? {} : { layer: options.layer }),
      ...(options.since === undefined ? {} : { since: options.since }),
      ...(options.until === undefined ? {} : { until: options.until }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    };
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    try {
      const records = await store.recall(filters);
      const output = new Output({ json: options.json === true });
      if (output.json) output.data(records);
      else printRecords(output, records);
    } finally {
      // close() writes this recall's counts.
      await store.close();
    }
  });
}
