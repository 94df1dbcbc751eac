/** Applying the patch series: all in order, or a clear stop naming the patch that failed. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySeries } from '../../lib/kernel/build';

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' });
}

/** A source tree tagged "base" with one file, and a directory of patches against it. */
function fixture(): { tree: string; patches: string; log: string } {
  const root = mkdtempSync(join(tmpdir(), 'gcma-series-'));
  const tree = join(root, 'src');
  execFileSync('git', ['init', '-q', tree]);
  writeFileSync(join(tree, 'mm.c'), 'one\ntwo\nthree\n');
  git(tree, 'add', '.');
  git(tree, 'commit', '-qm', 'base');
  git(tree, 'tag', 'base');
  // Make two patches on a branch, then go back to base.
  const work = join(root, 'work');
  git(tree, 'worktree', 'add', '-q', '--detach', work, 'base');
  writeFileSync(join(work, 'mm.c'), 'one\n2\nthree\n');
  git(work, 'commit', '-qam', 'first');
  writeFileSync(join(work, 'gcma.c'), 'new\n');
  git(work, 'add', 'gcma.c');
  git(work, 'commit', '-qm', 'second');
  const patches = join(root, 'patches');
  git(work, 'format-patch', '-q', '-o', patches, 'base..HEAD');
  git(tree, 'worktree', 'remove', '--force', work);
  return { tree, patches, log: join(root, 'log') };
}

it('applies every patch in order onto base', async () => {
  const f = fixture();
  await applySeries(f.tree, f.patches, ['0001-first.patch', '0002-second.patch'], f.log);
  expect(readFileSync(join(f.tree, 'mm.c'), 'utf8')).toBe('one\n2\nthree\n');
  expect(readFileSync(join(f.tree, 'gcma.c'), 'utf8')).toBe('new\n');
  // Applying a shorter series takes the tree back: the dropped patch's file goes.
  await applySeries(f.tree, f.patches, ['0001-first.patch'], f.log);
  expect(() => readFileSync(join(f.tree, 'gcma.c'))).toThrow(/ENOENT/);
});

it('stops at a patch that does not apply, naming it, and leaves the tree as it was', async () => {
  const f = fixture();
  await applySeries(f.tree, f.patches, ['0001-first.patch'], f.log);
  const broken = join(f.patches, '0003-broken.patch');
  writeFileSync(broken, readFileSync(join(f.patches, '0001-first.patch'), 'utf8').replace('-two', '-zwei'));
  await expect(applySeries(f.tree, f.patches, ['0003-broken.patch', '0002-second.patch'], f.log)).rejects.toThrow(
    /kernel\/patches\/0003-broken\.patch does not apply/,
  );
  expect(readFileSync(join(f.tree, 'mm.c'), 'utf8')).toBe('one\n2\nthree\n');
});
