/**
 * The debug kernel's detectors against deliberate bugs: each must fail the
 * run (make test runs the VM suites on this kernel, so a detector that did
 * not fire, or a report the runner did not catch, would let bugs through).
 * One short boot of the debug flavour per bug (test/fixtures/debug-bugs).
 */
import { join } from 'node:path';
import type { KernelBuild } from '../../lib/kernel/build';
import { projectRoot } from '../../lib/paths';
import { runInVm, VmError } from '../../lib/vm/runner';
import type { FindingKind } from '../../lib/vm/console';
import { SMALL_GUEST_MIB, testKernel, testModule } from '../support/test-kernel';

jest.setTimeout(900_000);

let kernel: KernelBuild;
let ko: string;

beforeAll(async () => {
  kernel = await testKernel();
  ko = await testModule(kernel, 'debug_bugs');
});

async function bootWithBug(bug: string, cmdline: string[]): Promise<VmError> {
  try {
    await runInVm({
      bzImage: kernel.bzImage,
      cwd: projectRoot(),
      resultsDir: join(projectRoot(), 'results', 'test', 'boot', `debug-${bug}`),
      command: ['insmod', ko, `bug=${bug}`],
      cmdline,
      memoryMiB: SMALL_GUEST_MIB,
      output: () => undefined,
    });
  } catch (err) {
    if (err instanceof VmError) return err;
    throw err;
  }
  throw new Error(`bug=${bug}: the run succeeded, so the detector stayed silent or its report was missed`);
}

/**
 * KASAN's case boots without KFENCE: KFENCE samples slab allocations at
 * random, and an object it sampled is reported by KFENCE, not KASAN (a
 * clean-clone run of make test saw "BUG: KFENCE: use-after-free read" once).
 */
it.each<[string, FindingKind, RegExp, string[]]>([
  ['kasan', 'sanitizer', /BUG: KASAN: slab-use-after-free in use_after_free/, ['kfence.sample_interval=0']],
  ['lockdep', 'warning', /WARNING: possible circular locking dependency detected/, []],
  ['sleep', 'bug', /BUG: sleeping function called from invalid context/, []],
])('bug=%s fails the run with the report', async (bug, kind, report, cmdline) => {
  const err = await bootWithBug(bug, cmdline);
  expect(err.reason).toBe('kernel-report');
  expect(err.findings[0]!.kind).toBe(kind);
  expect(err.message).toMatch(report);
  expect(err.message).toContain('debug_bugs');
});
