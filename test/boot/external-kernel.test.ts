/**
 * A kernel built elsewhere, booted: the test kernel's bzImage and build
 * directory given as a vendor gives theirs (gcma kernel build --json prints
 * both). test/host/external-kernel.test.ts has the refusals; the benchmark
 * runs this way in test/boot/bench.test.ts.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KernelBuild } from '../../lib/kernel/build';
import { bzImageRelease, externalKernel } from '../../lib/kernel/external';
import { projectRoot } from '../../lib/paths';
import { SMALL_GUEST_MIB, testKernel, testModule } from '../support/test-kernel';

jest.setTimeout(600_000);

const root = projectRoot();
let kernel: KernelBuild;

beforeAll(async () => {
  kernel = await testKernel();
});

it('reads from a real bzImage the release its KDIR built', () => {
  expect(bzImageRelease(kernel.bzImage)).toBe(kernel.release);
});

it('builds its modules apart from the cache flavours, and gcma vm --kernel --kdir boots it with one loaded', async () => {
  const given = externalKernel(kernel.bzImage, kernel.buildDir, 'debug');
  const ko = await testModule(given, 'gcma_test');
  expect(ko).toMatch(/\/module\/external\/[0-9a-f]{16}\/gcma_test\//);
  // make test KERNEL=... tests a kernel built elsewhere: then both are it
  if (!kernel.external) expect(ko).not.toBe(await testModule(kernel, 'gcma_test'));
  const cli = join(root, 'dist', 'lib', 'cli.js');
  const args = ['vm', '--kernel', kernel.bzImage, '--kdir', kernel.buildDir, '--memory', String(SMALL_GUEST_MIB), '--module', ko];
  const script = 'uname -r; cat /sys/module/gcma_test/initstate; test -c /dev/gcma_test && echo device';
  const r = await promisify(execFile)(process.execPath, [cli, ...args, '--results', join(root, 'results', 'test', 'boot', 'external-vm'), '--', 'sh', '-c', script], {
    encoding: 'utf8',
  });
  expect(r.stdout).toBe(`${kernel.release}\nlive\ndevice\n`);
  expect(r.stderr).toMatch(new RegExp(`^\\[vm\\] ${kernel.release.replace(/\./g, '\\.')} \\((tcg|kvm)\\): exit 0 in `, 'm'));
});
