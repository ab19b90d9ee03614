import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A folder on a filesystem of its own, for the tests of a full disk and a read-only store: a
 * tmpfs of the given size, mounted where the machine allows it (root, or a container that lets
 * the test mount). Where it does not, `mounted` is false and `reason` says why; the test then
 * uses its fallback (a file-size limit, permissions) or says plainly what it skipped.
 */
export interface SmallFilesystem {
  readonly path: string;
  readonly mounted: boolean;
  readonly reason: string | undefined;
  /** Makes the filesystem read-only, or writable again. */
  remount(options: 'ro' | 'rw'): void;
  dispose(): void;
}

export function mountSmallFilesystem(sizeBytes: number): SmallFilesystem {
  const path = mkdtempSync(join(tmpdir(), 'memhub-smallfs-'));
  let mounted = false;
  let reason: string | undefined;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0777`, 'tmpfs', path], { stdio: 'pipe' });
    mounted = true;
  } catch (error) {
    reason = `cannot mount a tmpfs here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()})`;
  }
  return {
    path,
    mounted,
    reason,
    remount(options) {
      execFileSync('mount', ['-o', `remount,${options}`, path], { stdio: 'pipe' });
    },
    dispose() {
      if (mounted) execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      rmSync(path, { recursive: true, force: true });
    },
  };
}
