// The workspace's published packages as `pnpm pack` makes them: built first, then packed into a
// folder outside the workspace, each tarball read back (its file list and its package.json) with
// tar, so that the test checks what a user downloads rather than what the workspace holds.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { assertSucceeded, runProcess } from './run-process.js';
import { userEnvironment } from './user-environment.js';

/** The published packages, dependencies first (the order `pnpm build` names them). */
export const PUBLISHED_PACKAGES = ['lock', 'store', 'cli'] as const;
export type PublishedPackage = (typeof PUBLISHED_PACKAGES)[number];

export interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly bin?: Readonly<Record<string, string>>;
  readonly exports?: Readonly<Record<string, unknown>>;
  readonly files?: readonly string[];
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

export interface PackedPackage {
  readonly folder: PublishedPackage;
  readonly tarball: string;
  /** Paths inside the package (tar's `package/` prefix taken off), sorted. */
  readonly files: readonly string[];
  /** The package.json inside the tarball: what pnpm pack wrote, workspace: ranges rewritten. */
  readonly manifest: PackageJson;
}

export function readPackageJson(path: string): PackageJson {
  return JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
}

/**
 * `tsc -b` of the published packages, as `pnpm build` does: the `memhub` project of vitest.config.ts
 * has no build setup of its own, and a tarball of a stale dist would test the wrong code. Up to
 * date (after `pnpm test`'s typecheck), it takes a second or two.
 */
export async function buildPackages(workspaceRoot: string): Promise<void> {
  const tsc = createRequire(join(workspaceRoot, 'package.json')).resolve('typescript/bin/tsc');
  const folders = PUBLISHED_PACKAGES.map((name) => `packages/${name}`);
  const build = await runProcess(process.execPath, [tsc, '-b', ...folders], { cwd: workspaceRoot, env: process.env, timeoutMs: 300_000 });
  // tsc still emits the JavaScript of sources with type errors, and `pnpm test`'s typecheck is
  // what fails on those (as build-packages-global-setup.ts does); a build that emitted nothing
  // shows up below as a tarball without dist.
  if (build.code !== 0) console.warn(`tsc -b ${folders.join(' ')} reported errors; packing what it emitted:\n${build.stdout}${build.stderr}`);
}

/** Packs every published package into `destination` with pnpm, three at a time. */
export async function packPackages(workspaceRoot: string, destination: string): Promise<PackedPackage[]> {
  return Promise.all(PUBLISHED_PACKAGES.map((folder) => packPackage(workspaceRoot, folder, destination)));
}

async function packPackage(workspaceRoot: string, folder: PublishedPackage, destination: string): Promise<PackedPackage> {
  const packageFolder = join(workspaceRoot, 'packages', folder);
  // pnpm, not npm: pnpm pack is what rewrites `workspace:*` to the version of the package it names.
  const packed = await runProcess('pnpm', ['pack', '--json', '--pack-destination', destination], {
    cwd: packageFolder,
    env: userEnvironment(workspaceRoot),
    timeoutMs: 120_000,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new Error('pnpm is not on the PATH: run the suite through pnpm (`npx --yes pnpm@10 test`)');
    throw error;
  });
  assertSucceeded(packed, `pnpm pack in packages/${folder}`);
  const { filename } = JSON.parse(packed.stdout) as { filename: string };
  const tarball = filename.startsWith('/') ? filename : join(destination, filename);
  return { folder, tarball, files: listTarball(tarball), manifest: JSON.parse(readFromTarball(tarball, 'package.json')) as PackageJson };
}

function listTarball(tarball: string): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line !== '' && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''))
    .sort();
}

function readFromTarball(tarball: string, path: string): string {
  return execFileSync('tar', ['-xzOf', tarball, `package/${path}`], { encoding: 'utf8' });
}

/** Every path a package.json's exports map and bin point to, with the condition that names it. */
export function entryPoints(manifest: PackageJson): { readonly via: string; readonly path: string }[] {
  const found: { via: string; path: string }[] = [];
  const visit = (value: unknown, via: string): void => {
    if (typeof value === 'string') found.push({ via, path: value.replace(/^\.\//, '') });
    else if (value !== null && typeof value === 'object') for (const [key, inner] of Object.entries(value)) visit(inner, `${via} ${key}`);
  };
  visit(manifest.exports ?? {}, 'exports');
  visit(manifest.bin ?? {}, 'bin');
  return found;
}
