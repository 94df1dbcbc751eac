/**
 * The project's test command (make test): host suites (their boot tests
 * use the default kernel, and the debug one to prove its detectors fire),
 * the series check, then the VM suites in one boot of the debug kernel
 * (KASAN, KFENCE, lockdep, DEBUG_VM, page poisoning). Fails when a suite
 * fails, when any VM suite did not run (a VM test never passes by being
 * skipped), and when lockdep switched itself off during the run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildKernel } from '../lib/kernel/build';
import { buildModuleFor, TEST_MODULE_SOURCE } from '../lib/kernel/module';
import { checkSeriesBuilds } from '../lib/kernel/series-check';
import { projectRoot } from '../lib/paths';
import { exec } from '../lib/util/exec';
import { runInVm, VmError } from '../lib/vm/runner';

/** Small enough that the filesystem suites' files outgrow the page cache. */
const VM_MEMORY_MIB = 768;
const SCRATCH_DISK_BYTES = 2 * 1024 ** 3;
const INTEGRITY_DISK_BYTES = 1024 ** 3;
/** The default CMA area that the device suites allocate from as the CMA target. */
const VM_CMDLINE = ['cma=64M'];
/** The VM suites run on the kernel with the bug detectors (kernel/config/debug.config). */
const VM_FLAVOUR = 'debug';
/** Written by the guest after jest: lockdep's "debug_locks: 1" once everything ran. */
const LOCKDEP_STATE = 'lockdep-state';

interface JestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTotalTests: number;
  testResults: Array<{ name: string; status: string }>;
}

function readReport(path: string, what: string): JestReport {
  if (!existsSync(path)) throw new Error(`${what}: jest wrote no report (${path})`);
  return JSON.parse(readFileSync(path, 'utf8')) as JestReport;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .map((f) => join(dir, f))
    .sort();
}

async function main(): Promise<number> {
  const root = projectRoot();
  const results = join(root, 'results', 'test');
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const problems: string[] = [];

  // Before the host suites: their boot tests use the debug kernel too.
  console.log(`\n=== ${VM_FLAVOUR} kernel and module (for the VM suites) ===`);
  const kernel = await buildKernel({ flavour: VM_FLAVOUR, log: (m) => console.log(m) });
  const testModule = (await buildModuleFor(kernel, TEST_MODULE_SOURCE)).modules['gcma_test']!;

  console.log('\n=== host suites ===');
  const hostJson = join(results, 'host.json');
  await exec('node', [jest, '--config', 'jest.host.config.js', '--runInBand', '--json', '--outputFile', hostJson], { cwd: root }).catch(
    () => problems.push('host suites failed'),
  );
  const host = readReport(hostJson, 'host suites');

  console.log('\n=== series: every patch builds on its own ===');
  let seriesOk = false;
  try {
    const r = await checkSeriesBuilds();
    console.log(`[series] ${r.built.length} prefixes built now, ${r.cached.length} built before`);
    seriesOk = true;
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    problems.push('the series does not build patch by patch');
  }

  console.log(`\n=== VM suites (patched ${VM_FLAVOUR} kernel under QEMU) ===`);
  const vmDir = join(root, 'dist', 'test', 'vm');
  const expected = testFiles(vmDir);
  if (expected.length === 0) throw new Error(`no VM suites in ${vmDir}`);
  const vmResults = join(results, 'vm');
  mkdirSync(vmResults, { recursive: true });
  // A sparse scratch disk for the filesystem suites (/dev/vda in the guest).
  const scratch = join(vmResults, 'scratch.img');
  writeFileSync(scratch, '');
  truncateSync(scratch, SCRATCH_DISK_BYTES);
  // Two more for the integrity suite's two filesystems (/dev/vdb, /dev/vdc).
  const integrity = ['integrity0.img', 'integrity1.img'].map((f) => join(vmResults, f));
  for (const f of integrity) {
    writeFileSync(f, '');
    truncateSync(f, INTEGRITY_DISK_BYTES);
  }
  let vm: JestReport | undefined;
  try {
    const r = await runInVm({
      bzImage: kernel.bzImage,
      command: [
        'sh',
        '-c',
        `node "$@"; rc=$?; grep debug_locks /proc/lockdep_stats > /run/gcma-results/${LOCKDEP_STATE}; exit $rc`,
        'vm-suites',
        jest,
        '--config',
        'jest.vm.config.js',
        '--runInBand',
        '--json',
        '--outputFile',
        '/run/gcma-results/vm.json',
      ],
      cwd: root,
      env: {
        GCMA_KERNEL_RELEASE: kernel.release,
        GCMA_KERNEL_FLAVOUR: kernel.flavour,
        GCMA_TEST_MODULE: testModule,
        GCMA_SCRATCH_DISK: '/dev/vda',
        GCMA_INTEGRITY_DISKS: '/dev/vdb:/dev/vdc',
        CI: 'true',
      },
      memoryMiB: VM_MEMORY_MIB,
      cmdline: VM_CMDLINE,
      disks: [scratch, ...integrity],
      resultsDir: vmResults,
    });
    console.log(`[vm] ${kernel.release} (${r.accel}) exit ${r.exitCode} in ${(r.durationMs / 1000).toFixed(1)}s`);
    if (r.exitCode !== 0) problems.push(`VM suites exited ${r.exitCode}`);
    vm = readReport(join(vmResults, 'vm.json'), 'VM suites');
    // A lockdep report would have failed the run already; this catches
    // lockdep giving up silently (out of lock classes, chains, ...).
    const lockdep = existsSync(join(vmResults, LOCKDEP_STATE)) ? readFileSync(join(vmResults, LOCKDEP_STATE), 'utf8').trim() : 'missing';
    console.log(`[vm] lockdep after the suites: ${lockdep}`);
    if (!/^debug_locks:\s+1$/.test(lockdep)) problems.push(`lockdep was not live at the end of the VM suites (${lockdep})`);
  } catch (err) {
    if (!(err instanceof VmError)) throw err;
    console.error(err.message);
    problems.push(`VM run failed: ${err.reason}`);
  }
  if (vm) {
    // jest reports guest paths, which are the host's (the root is shared).
    const ran = new Map(vm.testResults.map((t) => [t.name, t.status]));
    for (const file of expected) {
      const status = ran.get(file);
      if (status !== 'passed') problems.push(`VM suite ${relative(root, file)}: ${status ?? 'did not run'}`);
    }
    if (vm.numPendingTests > 0) problems.push(`${vm.numPendingTests} VM tests were skipped`);
  }

  const passed = host.numPassedTests + (vm?.numPassedTests ?? 0) + (seriesOk ? 1 : 0);
  const failed = host.numFailedTests + (vm?.numFailedTests ?? 0) + (seriesOk ? 0 : 1);
  console.log('\n=== summary ===');
  console.log(`host: ${host.numPassedTests} passed, ${host.numFailedTests} failed, ${host.numPendingTests} skipped`);
  console.log(vm ? `vm:   ${vm.numPassedTests} passed, ${vm.numFailedTests} failed, ${vm.numPendingTests} skipped` : 'vm:   did not run');
  console.log(`series: ${seriesOk ? 'every patch builds on its own' : 'FAILED'}`);
  for (const p of problems) console.log(`FAIL: ${p}`);
  const failures = Math.max(failed, problems.length ? 1 : 0);
  console.log(`${passed} passed, ${failures} failed`);
  return problems.length || failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
