// The packages a published package's JavaScript imports without declaring them. In the workspace
// every devDependency is installed, so a module that imports one works there and fails for a user;
// after npm install it may still work by luck, when another package hoists the same dependency.
// Reading the imports catches both.
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import type { PackageJson } from './packed-packages.js';

// Static imports start a line (tsc writes them so) and reach `from` without passing a quote or a
// semicolon: that keeps a pattern from running through string literals into other code.
const IMPORT_PATTERNS = [
  /^\s*(?:import|export)\b[^;'"`]*?\bfrom\s*['"]([^'"\n]+)['"]/gm, // import x from 'a', export * from 'a'
  /^\s*import\s*['"]([^'"\n]+)['"]/gm, // import 'a'
  /\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g, // import('a')
  /\brequire\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g, // require('a')
  /\bcreateRequire\([^)]*\)\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g, // createRequire(import.meta.url)('a')
];

/** `@scope/name/sub/path` -> `@scope/name`, `name/sub` -> `name`. */
function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function javascriptFilesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.[cm]?js$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

function importedPackages(source: string): Set<string> {
  // Comments name packages in prose (`import('pg')` in a doc comment): not imports.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const names = new Set<string>();
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.') || specifier.startsWith('/') || isBuiltin(specifier)) continue;
      names.add(packageNameOf(specifier));
    }
  }
  return names;
}

/**
 * `file: package` for each package imported by the JavaScript under `folders` (of the installed
 * package at `packageRoot`) that its manifest does not declare as a dependency, peer or optional
 * dependency. Importing itself by name is allowed (its exports map answers).
 */
export function undeclaredImports(packageRoot: string, folders: readonly string[], manifest: PackageJson): string[] {
  const declared = new Set([manifest.name, ...Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies })]);
  const undeclared: string[] = [];
  for (const folder of folders) {
    for (const file of javascriptFilesUnder(join(packageRoot, folder))) {
      for (const name of importedPackages(readFileSync(file, 'utf8'))) {
        if (!declared.has(name)) undeclared.push(`${file.slice(packageRoot.length + 1)}: ${name}`);
      }
    }
  }
  return undeclared;
}
