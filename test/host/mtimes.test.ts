/** lib/kernel/mtimes.ts: a file gets its recorded mtime back only when its content is the same again. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreTreeMtimes } from '../../lib/kernel/build';
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

// A file whose mtime was put back no longer matches git's index: without a
// refresh, the next `checkout -f` rewrites it though its content is the
// same in both commits (page-flags.h, and the whole kernel rebuilt).
describe('restoreTreeMtimes', () => {
  const run = (dir: string, ...args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' });

  function repo(): string {
    const dir = mkdtempSync(join(tmpdir(), 'gcma-mtimes-git-'));
    run(dir, 'init', '-q');
    run(dir, 'config', 'user.email', 'test@localhost');
    run(dir, 'config', 'user.name', 'test');
    writeFileSync(join(dir, 'same.h'), 'same\n');
    writeFileSync(join(dir, 'changed.c'), 'v1\n');
    run(dir, 'add', '.');
    run(dir, 'commit', '-q', '-m', 'a');
    run(dir, 'tag', 'a');
    writeFileSync(join(dir, 'changed.c'), 'v2\n');
    run(dir, 'commit', '-q', '-am', 'b');
    run(dir, 'tag', 'b');
    return dir;
  }

  it.each([
    ['keeps', true],
    ['without it, checkout -f rewrites', false],
  ])('%s the old mtime of a file both commits have alike', async (_name, refresh) => {
    const dir = repo();
    utimesSync(join(dir, 'same.h'), 1000, 1000);
    recordMtimes(dir, ['same.h']);
    run(dir, 'checkout', '-q', '-f', '--detach', 'a');
    writeFileSync(join(dir, 'same.h'), 'same\n'); // as a prefix checkout does
    if (refresh) await restoreTreeMtimes(dir, join(dir, '..', `${dir.split('/').pop()}.log`));
    else restoreMtimes(dir);
    expect(mtime(dir, 'same.h')).toBe(1000);
    run(dir, 'checkout', '-q', '-f', '--detach', 'b');
    if (refresh) expect(mtime(dir, 'same.h')).toBe(1000);
    else expect(mtime(dir, 'same.h')).toBeGreaterThan(1000);
  });
});
