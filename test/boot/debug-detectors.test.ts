/**
 * The debug kernel's detectors against deliberate bugs: each must fail the
 * run (make test runs the VM suites on this kernel, so a detector that did
 * not fire, or a report the runner did not catch, would let bugs through).
 * One short boot of the debug flavour per bug (test/fixtures/debug-bugs).
 */
import { join } from 'node:path';
import { buildKernel, type KernelBuild } from '../../lib/kernel/build';
import { buildModuleFor } from '../../lib/kernel/module';
import { projectRoot } from '../../lib/paths';
import { runInVm, VmError } from '../../lib/vm/runner';
import type { FindingKind } from '../../lib/vm/console';

jest.setTimeout(900_000);

let kernel: KernelBuild;
let ko: string;

beforeAll(async () => {
  kernel = await buildKernel({ flavour: 'debug', log: () => undefined });
  const built = await buildModuleFor(kernel, { name: 'debug-bugs', base: 'test/fixtures/debug-bugs', files: ['.'] }, () => undefined);
  ko = built.modules['debug_bugs']!;
});

async function bootWithBug(bug: string): Promise<VmError> {
  try {
    await runInVm({
      bzImage: kernel.bzImage,
      cwd: projectRoot(),
      resultsDir: join(projectRoot(), 'results', 'test', 'boot', `debug-${bug}`),
      command: ['insmod', ko, `bug=${bug}`],
      output: () => undefined,
    });
  } catch (err) {
    if (err instanceof VmError) return err;
    throw err;
  }
  throw new Error(`bug=${bug}: the run succeeded, so the detector stayed silent or its report was missed`);
}

it.each<[string, FindingKind, RegExp]>([
  ['kasan', 'sanitizer', /BUG: KASAN: slab-use-after-free in use_after_free/],
  ['lockdep', 'warning', /WARNING: possible circular locking dependency detected/],
  ['sleep', 'bug', /BUG: sleeping function called from invalid context/],
])('bug=%s fails the run with the report', async (bug, kind, report) => {
  const err = await bootWithBug(bug);
  expect(err.reason).toBe('kernel-report');
  expect(err.findings[0]!.kind).toBe(kind);
  expect(err.message).toMatch(report);
  expect(err.message).toContain('debug_bugs');
});
