/**
 * The kernel make test runs on, and its out-of-tree modules. One flavour
 * for every boot: the debug kernel (kernel/config/debug.config: the
 * default config plus KASAN, KFENCE, lockdep, DEBUG_VM, page poisoning),
 * so each boot of the run is also a run under the detectors, and a fresh
 * machine builds one kernel for the tests, not two. The default flavour is
 * the benchmark's (make run).
 */
import { buildKernel, type KernelBuild } from '../../lib/kernel/build';
import { externalKernel } from '../../lib/kernel/external';
import { buildModuleFor, TEST_MODULE_SOURCE, type ModuleSource } from '../../lib/kernel/module';

export const TEST_FLAVOUR = 'debug';

/**
 * Guest memory for the boots that need little: the debug kernel poisons
 * and shadows all of it at boot, so a small guest boots faster (measured
 * under TCG: 15 s with 256 MiB, 21.5 s with 1 GiB).
 */
export const SMALL_GUEST_MIB = 256;

/** test/fixtures: modules whose only job is to misbehave on cue. */
export const FIXTURE_MODULES: Readonly<Record<string, ModuleSource>> = {
  warn_on_load: { name: 'warn-module', base: 'test/fixtures/warn-module', files: ['.'] },
  debug_bugs: { name: 'debug-bugs', base: 'test/fixtures/debug-bugs', files: ['.'] },
};

/** The top-level Kbuild's modules, built together (TEST_MODULE_SOURCE). */
const PROJECT_MODULES: readonly string[] = ['gcma_test', 'gcma_vendor_heap'];

/**
 * The boot parameter that sets aside the reference vendor heap's region
 * (kernel/module/gcma_vendor_heap.c, loaded with region=vendor): memory no
 * one else uses, as a device tree's reserved-memory node gives it. For the
 * heap boots (test/boot/heap-zeroing.test.ts) only.
 */
export const VENDOR_REGION = { name: 'vendor', cmdline: 'reserve_mem=32M:2M:vendor' };

/**
 * The boot parameter the suites that check what cleancache keeps run with:
 * every clean folio stored, not only a working set's (the default), so
 * that a file written or read once and dropped has copies to check. The
 * default policy has its own tests (KUnit, and cleancache-ext4's, which
 * sets it back).
 */
export const STORE_ALL = 'cleancache.workingset_only=0';

const quiet = (): void => undefined;

/**
 * A kernel built elsewhere that the run tests instead (make test
 * KERNEL=bzImage KDIR=dir; test/run.ts passes them on to every jest
 * process in these variables).
 */
export const EXTERNAL_KERNEL_ENV = { bzImage: 'GCMA_EXTERNAL_KERNEL', kdir: 'GCMA_EXTERNAL_KDIR' } as const;

/** The kernel the run tests, if it was built elsewhere. */
export function externalTestKernel(): KernelBuild | undefined {
  const bzImage = process.env[EXTERNAL_KERNEL_ENV.bzImage];
  const kdir = process.env[EXTERNAL_KERNEL_ENV.kdir];
  if (!bzImage) return undefined;
  if (!kdir) throw new Error(`${EXTERNAL_KERNEL_ENV.bzImage} without ${EXTERNAL_KERNEL_ENV.kdir}: modules are built against KDIR`);
  return externalKernel(bzImage, kdir, TEST_FLAVOUR);
}

/** The test flavour's kernel, built (or found up to date) in the cache, or the one built elsewhere that the run was given. */
export async function testKernel(log: (m: string) => void = quiet): Promise<KernelBuild> {
  return externalTestKernel() ?? buildKernel({ flavour: TEST_FLAVOUR, log });
}

/** A module of this project built for the kernel: gcma_test, gcma_vendor_heap, or a fixture by its .ko name. */
export async function testModule(kernel: KernelBuild, name: string, log: (m: string) => void = quiet): Promise<string> {
  const src = PROJECT_MODULES.includes(name) ? TEST_MODULE_SOURCE : FIXTURE_MODULES[name];
  if (!src) throw new Error(`no module source for ${name}`);
  const ko = (await buildModuleFor(kernel, src, log)).modules[name];
  if (!ko) throw new Error(`${src.name} built no ${name}.ko`);
  return ko;
}
