/** lib/kernel/mtimes.ts: a file gets its recorded mtime back only when its content is the same again. */
import { mkdirSync, mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordMtimes, restoreMtimes } from '../../lib/kernel/mtimes';

function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gcma-mtimes-'));
  mkdirSync(join(dir, '.git'));
  mkdirSync(join(dir, 'include'));
  for (const [f, text] of [['include/fs.h', 'fs v2\n'], ['mm/gcma.c', 'gcma v2\n']] as const) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
    utimesSync(join(dir, f), 1000, 1000);
  }
  return dir;
}

const mtime = (dir: string, f: string): number => Math.round(statSync(join(dir, f)).mtimeMs / 1000);

it('restores the mtime of files whose content came back, and only theirs', () => {
  const dir = tree();
  recordMtimes(dir, ['include/fs.h', 'mm/gcma.c', 'mm/absent.c']);
  // A prefix checkout rewrites both; going back restores fs.h exactly, gcma.c differently.
  writeFileSync(join(dir, 'include/fs.h'), 'fs v1\n');
  writeFileSync(join(dir, 'include/fs.h'), 'fs v2\n');
  writeFileSync(join(dir, 'mm/gcma.c'), 'gcma v3\n');
  expect(restoreMtimes(dir)).toBe(1);
  expect(mtime(dir, 'include/fs.h')).toBe(1000);
  expect(mtime(dir, 'mm/gcma.c')).toBeGreaterThan(1000);
  // The record is used once.
  expect(restoreMtimes(dir)).toBe(0);
});

it('keeps the older times an interrupted check recorded', () => {
  const dir = tree();
  recordMtimes(dir, ['include/fs.h']);
  writeFileSync(join(dir, 'include/fs.h'), 'fs v2\n'); // same content, new mtime
  recordMtimes(dir, ['include/fs.h']);
  expect(restoreMtimes(dir)).toBe(1);
  expect(mtime(dir, 'include/fs.h')).toBe(1000);
});
