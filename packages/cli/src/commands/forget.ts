import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { CommandFailedError } from '../errors.js';
import { Output } from '../output.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

/** `memhub forget <id>`: deletes one record. */
export function forgetCommand(): Command {
  const command = new Command('forget').description('delete one record (its tags and full-text entry too)').argument('<id>', 'the record id');
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(command, ['memhub forget 0197a0c2-5c3e-7b4d-9a41-2f6de0c1b8aa'], 'Exit codes: 0 deleted, 1 no record with that id, 2 usage error');
  return command.action(async (id: string, options: { json?: boolean; debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    try {
      const forgotten = await store.forget(id);
      const output = new Output({ json: options.json === true });
      if (output.json) output.data({ id, forgotten });
      if (!forgotten) throw new CommandFailedError(`no record with id ${id}`);
      if (!output.json) output.line(`forgot ${id}`);
    } finally {
      await store.close();
    }
  });
}
