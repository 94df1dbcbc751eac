/**
 * Runs inside the guest: filesystems that did not opt in are never cached.
 * The root is the host's / over 9p (its data can change behind the guest's
 * back), /tmp is tmpfs; with a GCMA area donated, dropping their page cache
 * must store nothing.
 */
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { cleancacheStats, dropCaches, ensureArea } from './support/guest';

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

it('stores nothing from the 9p root or from tmpfs', () => {
  const node = process.execPath;
  dropCaches();
  const before = cleancacheStats();
  expect(readWhole(node)).toBe(statSync(node).size);
  writeFileSync('/tmp/scope.bin', Buffer.alloc(16 << 20, 0x5a));
  expect(readWhole('/tmp/scope.bin')).toBe(16 << 20);
  dropCaches();
  const after = cleancacheStats();
  for (const k of ['stored', 'skipped', 'restored', 'missed', 'invalidated']) expect([k, after[k]]).toEqual([k, before[k]]);
});
