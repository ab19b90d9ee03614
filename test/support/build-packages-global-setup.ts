// Vitest global setup of the tests of the built packages (vitest.config.ts's BUILT_TESTS): builds
// the workspace packages (`tsc -b`, as `pnpm build` does) before they run, and again before each
// rerun in watch mode, so that `vitest` alone never tests a build older than the sources. After
// `pnpm test`'s typecheck, which ran `tsc -b` already, this finds everything up to date in a second.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The packages the `memhub` bin is built from, in the order `pnpm build` names them. */
const PACKAGES = ['packages/lock', 'packages/store', 'packages/cli'];

function buildPackages(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-b', ...PACKAGES], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (build.error !== undefined) throw build.error;
  if (build.status !== 0) {
    // tsc still writes the JavaScript of sources with type errors; the typecheck step of
    // `pnpm test` is what fails on them. Say so, and let the tests run what was built.
    const report = `${build.stdout}${build.stderr}`.trimEnd().split('\n');
    const shown = report.length > 20 ? [...report.slice(0, 20), `... (${report.length - 20} more lines)`] : report;
    console.warn(`tsc -b ${PACKAGES.join(' ')} reported errors; the tests of the built packages run the JavaScript it emitted:\n${shown.join('\n')}`);
  }
}

export default function setup(project: TestProject): void {
  buildPackages();
  project.onTestsRerun(buildPackages);
}
