/**
 * Runs inside the guest: filesystems that did not opt in are never cached.
 * The root is the host's / over 9p (its data can change behind the guest's
 * back), /tmp is tmpfs; with a GCMA area donated, dropping their page cache
 * must store nothing, while the same steps on ext4 (which opted in) store
 * its pages: the control, so that the test cannot pass with cleancache off.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mountScratch, unmount } from '../../lib/scratch';
import { cleancacheWorkingsetOnly } from '../../lib/stats';
import { cleancacheStats, dropCaches, ensureArea, SELFTEST } from './support/guest';
import { chunkData, verifyChunks, writeChunks } from './support/pattern';

const disk = process.env['GCMA_SCRATCH_DISK'];
/** gcma selftest --scratch DIR: a directory on an ext4 filesystem already mounted, used instead of the disk. */
const scratchDir = process.env['GCMA_SCRATCH_DIR'];
const mnt = '/mnt/scope';

beforeAll(() => {
  ensureArea();
  expect(cleancacheStats()['cached']).toBeGreaterThanOrEqual(0);
});

function readWhole(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  let total = 0;
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, total)) > 0; ) total += n;
  } finally {
    closeSync(fd);
  }
  return total;
}

// Only in the runner's guest: elsewhere (gcma selftest) other opted-in
// filesystems hold page cache that drop_caches would store.
const vmOnly = SELFTEST ? it.skip : it;

vmOnly('stores nothing from the 9p root or from tmpfs, and stores ext4 files', () => {
  if (!disk) throw new Error('GCMA_SCRATCH_DISK is not set: the test command attaches a scratch disk');
  const node = process.execPath;
  dropCaches();
  const before = cleancacheStats();
  expect(readWhole(node)).toBe(statSync(node).size);
  writeFileSync('/tmp/scope.bin', Buffer.alloc(16 << 20, 0x5a));
  expect(readWhole('/tmp/scope.bin')).toBe(16 << 20);
  dropCaches();
  const after = cleancacheStats();
  for (const k of ['stored', 'skipped', 'restored', 'missed', 'invalidated']) expect([k, after[k]]).toEqual([k, before[k]]);

  // The control: the same steps on ext4 store its pages
  mountScratch(disk, mnt);
  try {
    writeFileSync(`${mnt}/scope.bin`, Buffer.alloc(4 << 20, 0x5a));
    execFileSync('sync');
    expect(readWhole(`${mnt}/scope.bin`)).toBe(4 << 20);
    const ext4Before = cleancacheStats();
    dropCaches();
    // Nearly all of its 1024 pages (drop_caches passes over a page someone holds)
    expect(cleancacheStats()['stored']! - ext4Before['stored']!).toBeGreaterThan(900);
  } finally {
    unmount(mnt);
  }
});

/**
 * On an ext4 directory (gcma selftest --scratch DIR) or the scratch disk,
 * made afresh: a file's pages are stored as they leave the page cache and
 * read back intact. Every clean folio is stored for it (a file written and
 * read once is no working set); the policy is put back after.
 */
it('stores an ext4 file as it leaves the page cache, and reads it back intact', () => {
  if (!scratchDir && !disk) throw new Error('neither GCMA_SCRATCH_DIR nor GCMA_SCRATCH_DISK is set: nowhere to write an ext4 file');
  const dir = scratchDir ?? mnt;
  if (!scratchDir) mountScratch(disk!, mnt);
  const policy = cleancacheWorkingsetOnly();
  const file = `${dir}/gcma-selftest-${process.pid}.bin`;
  try {
    cleancacheWorkingsetOnly(false);
    writeFileSync(file, '');
    writeChunks(file, 7, 0, 4);
    expect(verifyChunks(file, 0, 4, (c) => chunkData(7, c))).toEqual([]);
    const before = cleancacheStats();
    dropCaches();
    const stored = cleancacheStats()['stored']! - before['stored']!;
    expect(verifyChunks(file, 0, 4, (c) => chunkData(7, c))).toEqual([]);
    const restored = cleancacheStats()['restored']! - before['restored']!;
    // Nearly all of its 1024 pages each way (drop_caches passes over a page someone holds)
    expect({ stored: stored > 900, restored: restored > 900 }).toEqual({ stored: true, restored: true });
  } finally {
    if (policy !== null) cleancacheWorkingsetOnly(policy);
    rmSync(file, { force: true });
    if (!scratchDir) unmount(mnt);
  }
});
