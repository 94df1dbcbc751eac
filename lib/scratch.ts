/**
 * A scratch ext4 filesystem on a disk given for it (the VM's /dev/vdX):
 * made afresh, mounted, unmounted. Cleancache stores ext4's clean pages,
 * so this is where the benchmark and the VM suites put the files whose
 * pages they want cached. Destroys what the disk held.
 *
 * On a machine of a user's (gcma selftest, gcma bench --here) the place is
 * given: a directory on an ext4 filesystem already mounted, or a disk to
 * destroy, none of whose filesystems may be mounted (checkScratchDir(),
 * checkDisk()).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

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

export interface Mount {
  /** major:minor of the filesystem's device */
  dev: string;
  point: string;
  fstype: string;
  source: string;
}

/** /proc/self/mountinfo, octal escapes (\040 for a space) undone. */
export function mounts(text = readFileSync('/proc/self/mountinfo', 'utf8')): Mount[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [left, right] = line.split(' - ');
      const f = left!.split(' ');
      const [fstype, source] = right!.split(' ');
      return { dev: f[2]!, point: unescape(f[4]!), fstype: fstype!, source: unescape(source!) };
    });
}

/** The mount a path lives on: the longest mount point above it (the last mounted, when stacked). */
export function mountOf(path: string, all = mounts()): Mount {
  const real = realpathSync(path);
  const above = all.filter((m) => m.point === '/' || real === m.point || real.startsWith(`${m.point}/`));
  return above.reduce((best, m) => (m.point.length >= best.point.length ? m : best));
}

/** The mounted filesystems on a disk or any of its partitions. */
export function mountedOn(disk: string, all = mounts()): Mount[] {
  const name = basename(realpathSync(disk));
  const mine = (source: string): boolean => {
    if (!source.startsWith('/dev/') || !existsSync(source)) return false;
    const s = basename(realpathSync(source));
    return s === name || existsSync(join('/sys/class/block', name, s));
  };
  return all.filter((m) => mine(m.source));
}

/**
 * Where a user's machine lets files be written (gcma selftest, gcma bench
 * --here): a directory on a mounted ext4 filesystem (--scratch DIR), or a
 * disk to be made a new ext4 (--disk DEV, given with --yes-destroy).
 */
export type DataPlace = { disk: string } | { dir: string };

/** A place checked (checkScratchDir(), checkDisk()), with its real path. */
export function checkPlace(place: DataPlace): DataPlace {
  return 'disk' in place ? { disk: checkDisk(place.disk) } : { dir: checkScratchDir(place.dir) };
}

/** A directory given for scratch files (--scratch): it must be on ext4, whose pages cleancache keeps. Its real path. */
export function checkScratchDir(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--scratch ${dir}: no such directory`);
  const m = mountOf(dir);
  if (m.fstype !== 'ext4') throw new Error(`--scratch ${dir} is on ${m.fstype} (${m.point}): cleancache keeps ext4's pages, so the directory must be on ext4`);
  return realpathSync(dir);
}

/** A disk given to be made a new filesystem (--disk, with --yes-destroy): a block device none of whose filesystems is mounted. Its real path. */
export function checkDisk(disk: string): string {
  if (!existsSync(disk) || !statSync(disk).isBlockDevice()) throw new Error(`--disk ${disk}: not a block device`);
  const busy = mountedOn(disk);
  if (busy.length) throw new Error(`--disk ${disk} is in use: ${busy.map((m) => `${m.source} on ${m.point}`).join(', ')}`);
  return realpathSync(disk);
}
