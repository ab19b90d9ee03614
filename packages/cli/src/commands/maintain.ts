import { Command } from 'commander';
import type { ArchivePolicy, MaintainOptions } from '@memhub/store';
import { withHelp } from '../command-help.js';
import { Output } from '../output.js';
import { integerParser, parseDuration } from '../parse-values.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

interface MaintainCommandOptions {
  readonly olderThan?: number;
  readonly recallCountBelow?: number;
  readonly notRecalledSince?: number;
  readonly forgetExpired?: boolean;
  readonly json?: boolean;
  readonly debug?: boolean;
}

/** `memhub maintain`: applies the lifecycle: expired records out, the archive policy applied. */
export function maintainCommand(): Command {
  const command = new Command('maintain')
    .description(
      'apply the lifecycle: move expired records to the archive layer (or forget them), and archive the application records, not pinned, that meet every criterion given',
    )
    .option('--older-than <duration>', 'archive records written longer ago than this (90d, 12h, 2w)', parseDuration)
    .option('--recall-count-below <n>', 'archive records recalled fewer than n times', integerParser(1))
    .option('--not-recalled-since <duration>', 'archive records not recalled for this long', parseDuration)
    .option('--forget-expired', 'forget expired records instead of archiving them');
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(command, ['memhub maintain', 'memhub maintain --older-than 90d --recall-count-below 3 --json', 'memhub maintain --not-recalled-since 30d --forget-expired']);
  return command.action(async (options: MaintainCommandOptions, self: Command) => {
    const target = storeTarget(self);
    const policy: ArchivePolicy = {
      ...(options.olderThan === undefined ? {} : { olderThan: options.olderThan }),
      ...(options.recallCountBelow === undefined ? {} : { recallCountBelow: options.recallCountBelow }),
      ...(options.notRecalledSince === undefined ? {} : { notRecalledSince: options.notRecalledSince }),
    };
    const maintainOptions: MaintainOptions = {
      ...(Object.keys(policy).length === 0 ? {} : { policy }),
      ...(options.forgetExpired === true ? { expired: 'forget' as const } : {}),
    };
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    try {
      const report = await store.maintain(maintainOptions);
      const output = new Output({ json: options.json === true });
      if (output.json) {
        output.data(report);
        return;
      }
      output.line(`archived ${report.archived} record${report.archived === 1 ? '' : 's'}, forgot ${report.forgotten}`);
      if (report.changes.length > 0) {
        output.table(
          ['id', 'action', 'why'],
          report.changes.map((change) => [change.id, change.action, change.detail]),
          ['left', 'left', 'left'],
        );
      }
    } finally {
      await store.close();
    }
  });
}
