import { Command } from 'commander';
import type { ArchiveSelector } from '@memhub/store';
import { withHelp } from '../command-help.js';
import { UsageError } from '../errors.js';
import { Output } from '../output.js';
import { integerParser, parseIdList, parseTime } from '../parse-values.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

interface ArchiveOptions {
  readonly ids?: string[];
  readonly olderThan?: string;
  readonly recallCountBelow?: number;
  readonly json?: boolean;
  readonly debug?: boolean;
}

/** `memhub archive`: moves records from the application layer to archive, by one criterion. */
export function archiveCommand(): Command {
  const command = new Command('archive')
    .description('move records from the application layer to the archive layer (exactly one criterion)')
    .option('--ids <ids>', 'these records (ids separated by commas)', parseIdList)
    .option('--older-than <time>', 'records created before: ISO time, epoch ms, or an age such as 30d', (value: string) => parseTime(value))
    .option('--recall-count-below <n>', 'records recalled fewer than n times', integerParser(0));
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(command, ['memhub archive --older-than 30d', 'memhub archive --recall-count-below 1 --json', 'memhub archive --ids 0197a0c2-...,0197a0c3-...']);
  return command.action(async (options: ArchiveOptions, self: Command) => {
    const target = storeTarget(self);
    const selector = archiveSelector(options);
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    try {
      const archived = await store.archive(selector);
      const output = new Output({ json: options.json === true });
      if (output.json) output.data({ archived });
      else output.line(`archived ${archived} record${archived === 1 ? '' : 's'}`);
    } finally {
      await store.close();
    }
  });
}

function archiveSelector(options: ArchiveOptions): ArchiveSelector {
  const given: ArchiveSelector[] = [];
  if (options.ids !== undefined) given.push({ ids: options.ids });
  if (options.olderThan !== undefined) given.push({ olderThan: options.olderThan });
  if (options.recallCountBelow !== undefined) given.push({ recallCountBelow: options.recallCountBelow });
  if (given.length !== 1) throw new UsageError('archive takes exactly one of --ids, --older-than, --recall-count-below');
  return given[0]!;
}
