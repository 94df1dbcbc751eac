/** The patch series stays clean under the kernel's own checkpatch.pl --strict. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installedSourceVersion, seriesFiles, sourceDirFor } from '../../lib/kernel/build';
import { projectRoot } from '../../lib/paths';

const patches = seriesFiles();

it('has a patch series', () => {
  expect(patches.length).toBeGreaterThan(0);
});

it.each(patches)('%s passes checkpatch --strict', async (name) => {
  const tree = sourceDirFor(await installedSourceVersion());
  const checkpatch = join(tree, 'scripts', 'checkpatch.pl');
  // The kernel tree is unpacked by the kernel build, which the test command runs first.
  expect(existsSync(checkpatch)).toBe(true);
  let out = '';
  try {
    out = execFileSync(checkpatch, ['--strict', '--terse', '--no-summary', join(projectRoot(), 'kernel', 'patches', name)], {
      cwd: tree,
      encoding: 'utf8',
      // checkpatch's SPDX check runs python3 with ply: use Debian's python3.
      env: { ...process.env, PATH: `/usr/bin:${process.env['PATH'] ?? ''}` },
    });
  } catch (err) {
    out = (err as { stdout?: string }).stdout ?? String(err);
  }
  expect(out.trim()).toBe('');
});
