/** Runs inside the QEMU guest: the out-of-tree test module loads into the patched kernel and unloads. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { TEST_MODULE as ko } from './support/guest';

function kmsg(): string {
  return execFileSync('dmesg').toString('utf8');
}

it('loads and unloads gcma_test.ko', () => {
  expect(existsSync(ko)).toBe(true);
  expect(existsSync('/sys/module/gcma_test')).toBe(false);
  execFileSync('insmod', [ko]);
  try {
    expect(existsSync('/sys/module/gcma_test')).toBe(true);
    expect(readFileSync('/proc/modules', 'utf8')).toMatch(/^gcma_test /m);
    expect(kmsg()).toContain('gcma_test: loaded (CONFIG_GCMA=y, 2 CMA areas)');
  } finally {
    execFileSync('rmmod', ['gcma_test']);
  }
  expect(existsSync('/sys/module/gcma_test')).toBe(false);
  expect(kmsg()).toContain('gcma_test: unloaded');
});

it('reports its state through `gcma status --json`', () => {
  const cli = join(projectRoot(), 'dist', 'lib', 'cli.js');
  const before = JSON.parse(execFileSync('node', [cli, 'status', '--json']).toString('utf8'));
  expect(before.testModuleLoaded).toBe(false);
  expect(before.config.CONFIG_GCMA).toBe('y');
  expect(before.cmaTotalKiB).not.toBeNull();
  // CmaTotal counts both areas of the boot (cma=64M, gcma=guaranteed:32M)
  expect(before.cmaTotalKiB).toBe(96 * 1024);
  expect(before.cmaAreas).toEqual([
    { name: 'guaranteed', backing: 'cma+gcma', pages: 8192, allocPagesSuccess: expect.any(Number), allocPagesFail: expect.any(Number), releasePagesSuccess: expect.any(Number) },
    // A plain area's size is only in debugfs, with CONFIG_CMA_DEBUGFS, which this kernel leaves out
    { name: 'reserved', backing: 'cma', pages: null, allocPagesSuccess: expect.any(Number), allocPagesFail: expect.any(Number), releasePagesSuccess: expect.any(Number) },
  ]);
  const text = execFileSync('node', [cli, 'status']).toString('utf8');
  expect(text).toMatch(/^CMA area guaranteed\s+cma\+gcma, 8192 pages; pages allocated \d+ \/ failed \d+ \/ released \d+$/m);
  expect(text).toMatch(/^CMA area reserved\s+cma[,;]/m);
  execFileSync('insmod', [ko]);
  try {
    const after = JSON.parse(execFileSync('node', [cli, 'status', '--json']).toString('utf8'));
    expect(after.testModuleLoaded).toBe(true);
  } finally {
    execFileSync('rmmod', ['gcma_test']);
  }
});
