// The environment of a user's shell in a project of their own, derived from this process's: what
// pnpm, vitest and the workspace add to it is taken out, so that npm, npx and node in the packed
// project see nothing of the workspace. Kept: HOME (the user's npm config and cache), proxies,
// certificates, and npm_config_* set by whoever runs the suite (a registry mirror, say).
import { delimiter, resolve, sep } from 'node:path';

/** Variables that pnpm sets for a script it runs (npm_config_* among them that npm does not know). */
const PACKAGE_MANAGER_SCRIPT_VARIABLE = /^(npm_(lifecycle|package|command|execpath|node_execpath)|npm_config_(user_agent|verify_deps_before_run)$|pnpm_|PNPM_)/i;
/** Variables of vitest and its workers, and of the tests (a store chosen by the caller's shell). */
const TEST_RUN_VARIABLE = /^(VITEST|MEMHUB_|TEST$|NODE_ENV$|NODE_OPTIONS$|INIT_CWD$)/;

export function userEnvironment(workspaceRoot: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([name]) => !PACKAGE_MANAGER_SCRIPT_VARIABLE.test(name) && !TEST_RUN_VARIABLE.test(name));
  const env: NodeJS.ProcessEnv = Object.fromEntries(kept);
  // pnpm puts the workspace's node_modules/.bin folders on the PATH of the scripts it runs: a
  // `memhub` or `tsc` from there must not stand in for the installed project's own.
  const root = resolve(workspaceRoot) + sep;
  const path = env['PATH'] ?? '';
  env['PATH'] = path
    .split(delimiter)
    .filter((entry) => entry !== '' && !(resolve(entry) + sep).startsWith(root))
    .join(delimiter);
  env['npm_config_update_notifier'] = 'false';
  env['npm_config_fund'] = 'false';
  env['npm_config_audit'] = 'false';
  return { ...env, ...extra };
}
