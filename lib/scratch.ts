/**
 * A scratch ext4 filesystem on a disk given for it (the VM's /dev/vdX):
 * made afresh, mounted, unmounted. Cleancache stores ext4's clean pages,
 * so this is where the benchmark and the VM suites put the files whose
 * pages they want cached. Destroys what the disk held.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export interface ScratchOptions {
  /** ext4 block size in bytes: 4096 (the default) or 1024. */
  blockSize?: number;
  /** mkfs.ext4 -O features, e.g. ['encrypt']. */
  features?: readonly string[];
}

/** mkfs.ext4 on `disk`, then mount it on `mnt` (created if missing). */
export function mountScratch(disk: string, mnt: string, opts: ScratchOptions = {}): void {
  const features = opts.features?.length ? ['-O', opts.features.join(',')] : [];
  execFileSync('mkfs.ext4', ['-q', '-F', ...features, '-b', String(opts.blockSize ?? 4096), disk]);
  mkdirSync(mnt, { recursive: true });
  mountExt4(disk, mnt);
}

/** Mount an ext4 filesystem made by {@link mountScratch} again. */
export function mountExt4(disk: string, mnt: string): void {
  execFileSync('mount', ['-t', 'ext4', disk, mnt]);
}

/** Unmount what {@link mountScratch} or {@link mountExt4} mounted; throws with umount's message if it fails. */
export function unmount(mnt: string): void {
  execFileSync('umount', [mnt], { stdio: ['ignore', 'ignore', 'pipe'] });
}
