import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { Output } from '../output.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

/** `memhub restore <id...>`: moves archived records back to the application layer. */
export function restoreCommand(): Command {
  const command = new Command('restore')
    .description('move archived records back to the application layer, by id (the way back from archive)')
    .argument('<ids...>', 'the ids of the records to bring back');
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(command, ['memhub restore 0197a0c2-...', `memhub list --layer archive --tag decision --json | jq -r '.[].id' | xargs memhub restore`]);
  return command.action(async (ids: string[], options: { json?: boolean; debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    try {
      const restored = await store.restore(ids);
      const output = new Output({ json: options.json === true });
      if (output.json) output.data({ restored });
      else output.line(`restored ${restored} record${restored === 1 ? '' : 's'}${restored < new Set(ids).size ? ` (${new Set(ids).size - restored} not in the archive)` : ''}`);
    } finally {
      await store.close();
    }
  });
}
