import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The test fixtures (the programs the tests start as child processes and worker threads, in every
 * `fixtures/` folder), each bundled with the workspace sources it imports into one JavaScript
 * file that plain node starts.
 *
 * Through tsx, each start of a fixture costs about a second of CPU (tsx's loader handles every
 * module the process loads, kysely's hundreds of files included), against a third of that for the
 * bundle; the suite starts a few hundred of them, on 2 cores. The bundle is made by the esbuild
 * that tsx itself transforms TypeScript with, from the same sources with the same `@memhub/source`
 * condition: the code under test is the code tsx would have run. Packages from node_modules stay
 * outside the bundle, imported from where they are installed, and each bundled module keeps its
 * own `import.meta.url`, so that what it finds next to itself (koffi, for the lock) it still finds.
 *
 * test/support/bundle-fixtures-global-setup.ts bundles every fixture once per test run, into a
 * temp folder it names in FIXTURE_BUNDLES_VARIABLE. Without it (a test run without that setup) or
 * for a fixture it could not bundle, a fixture runs through tsx.
 */

export const FIXTURE_BUNDLES_VARIABLE = 'MEMHUB_TEST_FIXTURE_BUNDLES';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Node arguments that run a TypeScript fixture from the sources through tsx. */
export const TS_NODE_ARGS = ['--conditions=@memhub/source', '--import', 'tsx'];

/** Every fixture of the repository: the .ts files of the `fixtures/` folders of its tests. */
export function findFixtures(): string[] {
  const roots = [join(REPO_ROOT, 'test'), ...readdirSync(join(REPO_ROOT, 'packages')).map((name) => join(REPO_ROOT, 'packages', name, 'test'))];
  const found: string[] = [];
  const visit = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === 'node_modules') continue;
      const path = join(folder, entry.name);
      if (entry.name === 'fixtures') {
        found.push(...readdirSync(path).filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts')).map((name) => join(path, name)));
      }
      visit(path);
    }
  };
  for (const root of roots.filter((folder) => existsSync(folder))) visit(root);
  return found.sort();
}

/** Where the bundle of `fixture` (an absolute path to a .ts file) goes under `folder`. */
function bundlePathIn(folder: string, fixture: string): string {
  return join(folder, relative(REPO_ROOT, fixture)).replace(/\.ts$/, '.mjs');
}

/** The part of esbuild's API used here (esbuild is tsx's dependency, not the tests' own: no types for it here). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}
interface ResolveArgs {
  readonly path: string;
  readonly kind: string;
  readonly resolveDir: string;
  readonly importer: string;
  readonly pluginData?: unknown;
}
interface PluginBuild {
  resolve(path: string, options: Record<string, unknown>): Promise<{ path: string; errors: unknown[] }>;
  onResolve(options: { filter: RegExp }, callback: (args: ResolveArgs) => Promise<Record<string, unknown> | undefined>): void;
  onLoad(options: { filter: RegExp }, callback: (args: { path: string }) => Record<string, unknown>): void;
}

/**
 * Bundles `fixtures` into `folder`. A fixture whose sources do not build (someone is half-way
 * through an edit) gets no bundle, and runs through tsx, which reports the same error when a test
 * starts it; the others are not held up. Returns the ones not bundled, with why.
 */
export async function bundleFixtures(fixtures: readonly string[], folder: string): Promise<{ fixture: string; error: unknown }[]> {
  // tsx's own esbuild: a dependency of a dependency the workspace declares.
  const esbuild = createRequire(createRequire(import.meta.url).resolve('tsx'))('esbuild') as Esbuild;
  const plugin = {
    name: 'memhub-fixture-bundles',
    setup(build: PluginBuild) {
      // A package from node_modules is imported from where it is installed (an absolute path, so
      // the bundle's own folder does not matter); the workspace's packages are bundled.
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'resolving' || args.path.startsWith('node:')) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        return resolved.path.includes('/node_modules/') ? { path: resolved.path, external: true } : { path: resolved.path };
      });
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const url = JSON.stringify(pathToFileURL(args.path).href);
        return { contents: source.replaceAll('import.meta.url', url), loader: 'ts', resolveDir: dirname(args.path) };
      });
    },
  };
  const options = { bundle: true, platform: 'node', format: 'esm', target: 'node20', conditions: ['@memhub/source'], sourcemap: true, logLevel: 'silent', plugins: [plugin] };
  // All at once first, which reads each source once (a fifth of a second); one at a time only when
  // that fails, to find which ones do not build.
  try {
    await esbuild.build({ ...options, entryPoints: [...fixtures], outdir: folder, outbase: REPO_ROOT, outExtension: { '.js': '.mjs' } });
    return [];
  } catch {
    const results = await Promise.allSettled(fixtures.map((fixture) => esbuild.build({ ...options, entryPoints: [fixture], outfile: bundlePathIn(folder, fixture) })));
    return results.flatMap((result, index) => (result.status === 'rejected' ? [{ fixture: fixtures[index]!, error: result.reason as unknown }] : []));
  }
}

/** The bundle of `fixture` made for this test run, or undefined (then it runs through tsx). */
export function fixtureBundle(fixture: string): string | undefined {
  const folder = process.env[FIXTURE_BUNDLES_VARIABLE];
  if (folder === undefined || folder === '') return undefined;
  const bundle = bundlePathIn(folder, fixture);
  return existsSync(bundle) ? bundle : undefined;
}

/** The node arguments that start `fixture` (an absolute path to a .ts file): its bundle, or the file through tsx. */
export function fixtureNodeArgs(fixture: string): string[] {
  const bundle = fixtureBundle(fixture);
  return bundle === undefined ? [...TS_NODE_ARGS, fixture] : ['--enable-source-maps', bundle];
}

/**
 * A worker thread running `fixture` (an absolute path to a .ts file), which reads its own data
 * from `workerData.data`: its bundle, or the file through tsx (see ../fixtures/ts-worker-entry.mjs
 * for why a worker needs an entry of its own for that).
 */
export function startFixtureWorkerThread(fixture: string, data: unknown): Worker {
  const fixtureUrl = pathToFileURL(fixture).href;
  const bundle = fixtureBundle(fixture);
  const entry = bundle === undefined ? new URL('../fixtures/ts-worker-entry.mjs', import.meta.url) : pathToFileURL(bundle);
  return new Worker(entry, { workerData: { fixtureUrl, data } });
}

