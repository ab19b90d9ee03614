import { statfsSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem, type as osType } from 'node:os';

/**
 * statfs(2) magic numbers of the filesystems a temp folder is usually on. The numbers depend on
 * it: flock is a VFS operation, but proper-lockfile's mkdir/utimes/stat/rmdir (bench:lock) and
 * SQLite's WAL writes and checkpoint fsyncs (bench:store) cost what the filesystem makes them
 * cost (tmpfs is far cheaper than a journalled disk or an overlay).
 */
const FILESYSTEM_NAMES: ReadonlyMap<number, string> = new Map([
  [0x01021994, 'tmpfs'],
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x794c7630, 'overlayfs'],
  [0x2fc12fc1, 'zfs'],
  [0x6969, 'nfs'],
  [0x65735546, 'fuse'],
]);

/** The name of the filesystem that holds `folder`, or its magic number when it is not a common one. */
export function filesystemName(folder: string): string {
  try {
    const magic = Number(BigInt.asUintN(32, BigInt(statfsSync(folder).type)));
    return FILESYSTEM_NAMES.get(magic) ?? `statfs type 0x${magic.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

/** Lines that say what the numbers were measured on, printed above them. */
export function describeMachine(tempFolder: string): string[] {
  const processors = cpus();
  const model = processors[0]?.model.trim() ?? 'unknown CPU';
  return [
    `cpu:   ${model}, ${availableParallelism()} cores available (${processors.length} online), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
    `os:    ${osType()} ${release()} (${process.arch})`,
    `node:  ${process.version}`,
    `files: ${tempFolder} on ${filesystemName(tempFolder)}`,
  ];
}
