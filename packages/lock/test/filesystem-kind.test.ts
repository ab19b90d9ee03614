import { describe, expect, it } from 'vitest';
import { assertSafeFilesystemType, classifyFilesystemType, openLock, UnsafeFilesystemError } from '../src/index.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-fs-');

describe('network and FUSE filesystem detection', () => {
  it.each([
    [0x6969, 'NFS'],
    [0x517b, 'SMB'],
    [0xfe534d42, 'SMB2'],
    [0xff534d42, 'CIFS'],
    [0x65735546, 'FUSE (sshfs, rclone, s3fs, ...)'],
    [0x01021997, '9P (v9fs)'],
    [0x00c36400, 'Ceph'],
    [0x0bd00bd0, 'Lustre'],
    [0x47504653, 'GPFS'],
  ])('classifies statfs type 0x%s as unsafe (%s)', (magic, name) => {
    expect(classifyFilesystemType(magic)).toEqual({ magic, unsafeName: name });
  });

  it.each([
    [0xef53, 'ext2/3/4'],
    [0x58465342, 'XFS'],
    [0x9123683e, 'Btrfs'],
    [0x01021994, 'tmpfs'],
    [0x794c7630, 'overlayfs'],
    [0x2fc12fc1, 'ZFS'],
    [0x1badface, 'bfs'],
  ])('classifies statfs type 0x%s (%s) as a local filesystem', (magic) => {
    expect(classifyFilesystemType(magic).unsafeName).toBeUndefined();
  });

  it('reads the magic from the low 32 bits, whether Node reports it sign-extended or not', () => {
    // CIFS's magic 0xFF534D42 comes back negative where f_type is a signed 32-bit field.
    expect(classifyFilesystemType(0xff534d42 - 2 ** 32).unsafeName).toBe('CIFS');
    expect(classifyFilesystemType(BigInt(-11317950)).unsafeName).toBe('CIFS');
  });

  it('refuses an unsafe type with an error that says why and what to use instead', () => {
    let error: unknown;
    try {
      assertSafeFilesystemType(0x6969, '/mnt/share/memory.db.lock');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(UnsafeFilesystemError);
    const refusal = error as UnsafeFilesystemError;
    expect(refusal.code).toBe('ERR_LOCK_UNSAFE_FILESYSTEM');
    expect(refusal.filesystem).toBe('NFS');
    expect(refusal.path).toBe('/mnt/share/memory.db.lock');
    expect(refusal.message).toMatch(/NFS/);
    expect(refusal.message).toMatch(/flock/);
    expect(refusal.message).toMatch(/local disk/);
    expect(refusal.message).toMatch(/PostgreSQL/);
    expect(refusal.message).toMatch(/allowUnsafeFilesystem/);
  });

  it('accepts a local filesystem, and takes the override option', () => {
    openLock(scratch.path('local.lock')).close();
    openLock(scratch.path('local.lock'), { allowUnsafeFilesystem: true }).close();
  });
});
