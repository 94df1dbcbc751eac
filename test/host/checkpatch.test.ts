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

async function checkpatch(args: string[]): Promise<string> {
  const tree = sourceDirFor(await installedSourceVersion());
  const script = join(tree, 'scripts', 'checkpatch.pl');
  // The kernel tree is unpacked by the kernel build, which the test command runs first.
  expect(existsSync(script)).toBe(true);
  let out = '';
  try {
    out = execFileSync(script, ['--strict', '--terse', '--no-summary', ...args], {
      cwd: tree,
      encoding: 'utf8',
      // checkpatch's SPDX check runs python3 with ply: use Debian's python3.
      env: { ...process.env, PATH: `/usr/bin:${process.env['PATH'] ?? ''}` },
    });
  } catch (err) {
    out = (err as { stdout?: string }).stdout ?? String(err);
  }
  return out.trim();
}

it.each(patches)('%s passes checkpatch --strict', async (name) => {
  expect(await checkpatch([join(projectRoot(), 'kernel', 'patches', name)])).toBe('');
});

// The out-of-tree modules and the uapi header are kernel code too; the C
// programs are written in its style.
it.each([
  'kernel/module/gcma_test.c',
  'kernel/module/gcma_vendor_heap.c',
  'kernel/include/uapi/linux/gcma_test.h',
  'test/fixtures/warn-module/warn_on_load.c',
  'test/fixtures/debug-bugs/debug_bugs.c',
  'test/fscrypt/fscrypt_key.c',
  'lib/bench/dma_heap_alloc.c',
  'lib/bench/ioctl_roundtrip.c',
  'lib/bench/bench.h',
  'lib/vm/guest-init.c',
])('%s passes checkpatch --strict', async (file) => {
  expect(await checkpatch(['--no-tree', '-f', join(projectRoot(), file)])).toBe('');
});
