/**
 * Runs inside the guest: filesystems that did not opt in are never cached.
 * The root is the host's / over 9p (its data can change behind the guest's
 * back), /tmp is tmpfs; with a GCMA area donated, dropping their page cache
 * must store nothing, while the same steps on ext4 (which opted in) store
 * its pages: the control, so that the test cannot pass with cleancache off.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { mountScratch, unmount } from '../../lib/scratch';
import { cleancacheStats, dropCaches, ensureArea } from './support/guest';

const disk = process.env['GCMA_SCRATCH_DISK'];
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

it('stores nothing from the 9p root or from tmpfs, and stores ext4 files', () => {
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
