// A fresh npm project outside the workspace with the packed tarballs installed by plain npm, as a
// user installs them: dependencies from the npm registry, no pnpm, no workspace links.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PackedPackage } from './packed-packages.js';
import { readPackageJson } from './packed-packages.js';
import { assertSucceeded, runProcess } from './run-process.js';
import { userEnvironment } from './user-environment.js';

/** Set to 1 to install as a user does, better-sqlite3 compiling from source (about 1.5 min more on 2 cores). */
export const FULL_INSTALL_VARIABLE = 'MEMHUB_PACKED_FULL_INSTALL';

export interface InstallOptions {
  readonly workspaceRoot: string;
  readonly project: string;
  readonly tarballs: readonly PackedPackage[];
  /** Run the install scripts allowScripts allows (better-sqlite3 compiles) instead of copying the workspace's binary in. */
  readonly fullInstall: boolean;
  readonly timeoutMs: number;
}

/**
 * The project's package.json. allowScripts is npm's list of dependencies allowed to run install
 * scripts (npm 11.19 still runs the others, with a warning; its docs say they are skipped by
 * default, so a user's project needs the entry): better-sqlite3 needs its script
 * (it fetches or compiles its binary); koffi's only looks for a binary that its platform package
 * (@koromix/koffi-<platform>) already ships, so it is denied, which proves it is not needed.
 */
function projectManifest(): object {
  return { name: 'memhub-packed-install', private: true, type: 'module', allowScripts: { 'better-sqlite3': true, koffi: false } };
}

export async function installPackedProject(options: InstallOptions): Promise<void> {
  const { workspaceRoot, project, tarballs, fullInstall } = options;
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(projectManifest(), null, 2)}\n`);
  // The README snippet is type-checked against @types/node of the workspace's own version.
  const typesNode = readPackageJson(join(workspaceRoot, 'package.json')).devDependencies?.['@types/node'];
  if (typesNode === undefined) throw new Error('the workspace package.json names no @types/node version');
  // All three tarballs in one command: npm then satisfies @memhub/store's dependency on
  // @memhub/lock@0.1.0 (and the CLI's on both) with the tarballs, never from the registry.
  const args = ['install', ...(fullInstall ? [] : ['--ignore-scripts']), ...tarballs.map(({ tarball }) => tarball), `@types/node@${typesNode}`];
  const installed = await runProcess('npm', args, { cwd: project, env: userEnvironment(workspaceRoot), timeoutMs: options.timeoutMs });
  assertSucceeded(installed, `npm ${args.join(' ')} (in ${project})`);
  if (!fullInstall) copyWorkspaceSqliteBinary(workspaceRoot, project);
}

/**
 * better-sqlite3 finds no prebuilt binary here (GitHub, where they are, is not reachable) and
 * compiles itself from source: a minute and a half on 2 cores, for code that is better-sqlite3's,
 * not memhub's. The default run installs with scripts skipped and copies in the binary the
 * workspace compiled for the same version and the same Node; FULL_INSTALL_VARIABLE=1 compiles.
 */
function copyWorkspaceSqliteBinary(workspaceRoot: string, project: string): void {
  const workspaceManifest = createRequire(join(workspaceRoot, 'packages', 'store', 'package.json')).resolve('better-sqlite3/package.json');
  // The copy @memhub/store itself loads, wherever npm put it (hoisted or nested).
  const installedManifest = createRequire(join(project, 'node_modules', '@memhub', 'store', 'package.json')).resolve('better-sqlite3/package.json');
  const workspaceVersion = readPackageJson(workspaceManifest).version;
  const installedVersion = readPackageJson(installedManifest).version;
  if (workspaceVersion !== installedVersion) {
    throw new Error(
      `npm installed better-sqlite3 ${installedVersion}, the workspace has ${workspaceVersion}: its binary cannot stand in. ` +
        `Update the workspace (pnpm install) or run with ${FULL_INSTALL_VARIABLE}=1 to compile it.`,
    );
  }
  const binary = join(dirname(workspaceManifest), 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(binary)) throw new Error(`the workspace's better-sqlite3 is not built (${binary}); run pnpm install, or run with ${FULL_INSTALL_VARIABLE}=1`);
  const release = join(dirname(installedManifest), 'build', 'Release');
  mkdirSync(release, { recursive: true });
  copyFileSync(binary, join(release, 'better_sqlite3.node'));
}

/** The lockfile's record of where each installed @memhub package came from: `file:` for a tarball. */
export function memhubSources(project: string): Record<string, string | undefined> {
  const lock = readPackageJson(join(project, 'package-lock.json')) as unknown as { packages: Record<string, { resolved?: string }> };
  return Object.fromEntries(
    Object.entries(lock.packages)
      .filter(([path]) => /(^|\/)node_modules\/@memhub\//.test(path))
      .map(([path, entry]) => [path, entry.resolved]),
  );
}
