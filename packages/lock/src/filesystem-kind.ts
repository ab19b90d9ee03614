import { statfsSync } from 'node:fs';
import { UnsafeFilesystemError } from './errors.js';

/**
 * Filesystems on which flock(2) does not give one lock shared by every process that uses the
 * file: network filesystems (where it is emulated per client, or silently local, or not at all)
 * and FUSE (where it depends on the daemon). SQLite's WAL mode is unsafe on all of them too.
 * Keys are statfs(2) `f_type` magic numbers from Linux's <linux/magic.h> and the filesystems'
 * own headers.
 */
const UNSAFE_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x6969, 'NFS'],
  [0x517b, 'SMB'],
  [0xfe534d42, 'SMB2'],
  [0xff534d42, 'CIFS'],
  [0x65735546, 'FUSE (sshfs, rclone, s3fs, ...)'],
  [0x01021997, '9P (v9fs)'],
  [0x00c36400, 'Ceph'],
  [0x564c, 'NCP (NetWare)'],
  [0x73757245, 'Coda'],
  [0x5346414f, 'AFS'],
  [0x6b414653, 'kAFS'],
  [0x0bd00bd0, 'Lustre'],
  [0x47504653, 'GPFS'],
  [0x13661366, 'OrangeFS'],
  [0x7461636f, 'OCFS2'],
  [0x01161970, 'GFS2'],
  [0x65735543, 'FUSE control'],
  [0x786f4256, 'VirtualBox shared folder (vboxsf)'],
  [0x19830326, 'VirtualBox shared folder (vboxsf)'],
  [0xbacbacbc, 'VMware shared folder (vmhgfs)'],
]);

/** What a statfs type number says about a filesystem's locks. */
export interface FilesystemKind {
  /** The statfs `f_type` as an unsigned 32-bit number. */
  readonly magic: number;
  /** A human name when the type is one that memhub refuses; otherwise undefined. */
  readonly unsafeName: string | undefined;
}

/**
 * Classifies a statfs `f_type`. Node reports it as a (possibly sign-extended) number; only the
 * low 32 bits carry the magic, so it is normalised before the lookup.
 */
export function classifyFilesystemType(type: number | bigint): FilesystemKind {
  const magic = Number(BigInt.asUintN(32, BigInt(type)));
  return { magic, unsafeName: UNSAFE_FILESYSTEMS.get(magic) };
}

/** Throws UnsafeFilesystemError when a statfs type is one of the refused filesystems. */
export function assertSafeFilesystemType(type: number | bigint, lockPath: string): void {
  const kind = classifyFilesystemType(type);
  if (kind.unsafeName !== undefined) throw new UnsafeFilesystemError(lockPath, kind.unsafeName, kind.magic);
}

/**
 * Throws UnsafeFilesystemError when `directory` is on a network or FUSE filesystem. Where statfs
 * is missing or fails for a reason other than a missing folder, nothing is refused: the check is
 * a safety net, not a gate that could lock users out of a local disk.
 */
export function refuseUnsafeFilesystem(directory: string, lockPath: string): void {
  let type: number;
  try {
    type = statfsSync(directory).type;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    return;
  }
  assertSafeFilesystemType(type, lockPath);
}
