import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { printRecords } from '../format.js';
import { Output } from '../output.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';
import { addRecallFilters, recallQueryOf, type RecallFilterOptions } from './recall.js';

interface ListOptions extends RecallFilterOptions {
  readonly json?: boolean;
  readonly debug?: boolean;
}

/**
 * `memhub list`: the newest records, by tags, context path, layer and time, without counting a
 * recall: looking through a store is not using its memories, and the recall counts (which ranking
 * and archive policies read) stay what the agents made them.
 */
export function listCommand(): Command {
  const command = new Command('list')
    .summary('the newest records, filtered; counts no recall')
    .description('list records, newest first, by tags, context path, layer and time; unlike recall, it does not count a recall (the same as recall --no-count without words)');
  addRecallFilters(command);
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(command, ['memhub list --layer archive --limit 50', `memhub list --tag decision --since 7d --json | jq -r '.[].content'`]);
  return command.action(async (options: ListOptions, self: Command) => {
    const target = storeTarget(self);
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    try {
      const records = await store.recall({ ...recallQueryOf(options), count: false });
      const output = new Output({ json: options.json === true });
      if (output.json) output.data(records);
      else printRecords(output, records);
    } finally {
      await store.close();
    }
  });
}
