/**
 * The project's test command (make test; make soak runs it with --soak).
 *
 *   kernel   the test kernel (debug flavour) and gcma_test.ko for it
 *   list     every test of every suite, collected without running any
 *   host     host unit tests (jest project "host")
 *   series   every patch of the series builds on its own
 *   boot     runner tests, one short boot each (jest project "boot"),
 *            one at a time, beside the VM suites
 *   vm       the VM suites, in one boot of the test kernel
 *
 * Fails when a test fails or did not run (a test that never ran counts as
 * failed, with the reason: the VM died, its file did not load, ...), and
 * when lockdep switched itself off during the VM suites. Prints where the
 * time went, by phase and by suite, and writes JSON and JUnit XML reports
 * to results/test/.
 *
 * SUITES=a,b (names of test/vm/*.test.ts) runs just those VM suites, in one
 * boot, after the kernel phase. --kernel BZIMAGE --kdir DIR (make test
 * KERNEL=... KDIR=...) tests a kernel built elsewhere instead of building
 * the debug flavour: checked for what the suites need
 * (lib/kernel/external.ts), its modules built against KDIR, and no series
 * phase (that checks this project's patches, not that kernel). --soak runs the VM suites that have a long
 * form (SOAK_SUITES, or SUITES) at soak scale: GCMA_SOAK=1 in the guest.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkSeriesBuilds } from '../lib/kernel/series-check';
import { projectRoot } from '../lib/paths';
import { exec } from '../lib/util/exec';
import { table } from '../lib/util/table';
import { runInVm, sparseDisk, VmError } from '../lib/vm/runner';
import { collect, fileSeconds, jestArgs, listTests, readEvents, writeReports, type Collected, type Project } from './support/suite-results';
import { EXTERNAL_KERNEL_ENV, STORE_ALL, testKernel, testModule } from './support/test-kernel';

/** Small enough that the filesystem suites' files outgrow the page cache. */
const VM_MEMORY_MIB = 768;
const SCRATCH_DISK_BYTES = 2 * 1024 ** 3;
const INTEGRITY_DISK_BYTES = 1024 ** 3;
/**
 * cma=: the default CMA area, plain (lent to the page allocator), and
 * gcma=: a guaranteed CMA area backed by GCMA, side by side: the suites
 * allocate from both through cma_alloc() and dma_alloc_coherent().
 * debug_pagealloc=off for make test: DEBUG_PAGEALLOC costs about a quarter
 * of the VM suites' time, while page poisoning (a write to a free page),
 * KASAN and KFENCE stay on; make soak and the boot tests (KUnit among them)
 * keep it on.
 */
const CMA_AREAS = ['cma=64M', 'gcma=guaranteed:32M', STORE_ALL];
const VM_CMDLINE = { test: [...CMA_AREAS, 'debug_pagealloc=off'], soak: CMA_AREAS };
/** Written by the guest after jest: lockdep's "debug_locks: 1" once everything ran. */
const LOCKDEP_STATE = 'lockdep-state';
/** The VM suites with a long form (GCMA_SOAK=1): sizes and durations of a soak. */
const SOAK_SUITES = ['integrity', 'exhaustion', 'cleancache-ext4', 'model'];
/** Past this the VM run is stopped and whatever did not finish counts as failed. */
const VM_TIMEOUT_MS = { test: 30 * 60_000, soak: 4 * 3600_000 };

interface Phase {
  name: string;
  seconds: number;
  note: string;
}

class Phases {
  readonly list: Phase[] = [];

  async run<T>(name: string, fn: () => Promise<T>, note: (r: T) => string = () => ''): Promise<T> {
    console.log(`\n=== ${name} ===`);
    const t0 = Date.now();
    let result: T | undefined;
    try {
      result = await fn();
      return result;
    } finally {
      this.list.push({ name, seconds: (Date.now() - t0) / 1000, note: result === undefined ? 'failed' : note(result) });
    }
  }

  skip(name: string, why: string): void {
    this.list.push({ name, seconds: 0, note: `skipped: ${why}` });
  }
}

/** The suites of a project, from the TypeScript sources (never a stale compiled file), as compiled paths. */
function suiteFiles(root: string, project: Project): string[] {
  const dir = join(root, 'test', project);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(root, 'dist', 'test', project, f.replace(/\.ts$/, '.js')));
}

const suiteName = (path: string): string => basename(path).replace(/\.test\.js$/, '');

function chooseSuites(all: readonly string[], names: readonly string[]): string[] {
  const unknown = names.filter((n) => !all.some((f) => suiteName(f) === n));
  if (unknown.length) throw new Error(`SUITES: no VM suite ${unknown.join(', ')} (have: ${all.map(suiteName).join(', ')})`);
  return all.filter((f) => names.includes(suiteName(f)));
}

interface Outcome {
  project: Project;
  collected: Collected;
  why?: string;
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const { values } = parseArgs({ options: { soak: { type: 'boolean', default: false }, kernel: { type: 'string' }, kdir: { type: 'string' } } });
  const soak = values.soak ?? false;
  if (values.kernel !== undefined) {
    if (values.kdir === undefined) throw new Error('--kernel needs --kdir: the build directory its modules are built against');
    // Every jest process of the run (testKernel()) takes it from here.
    process.env[EXTERNAL_KERNEL_ENV.bzImage] = resolve(values.kernel);
    process.env[EXTERNAL_KERNEL_ENV.kdir] = resolve(values.kdir);
  }
  const chosen = (process.env['SUITES'] ?? '').split(/[\s,]+/).filter(Boolean);
  const root = projectRoot();
  const results = join(root, 'results', 'test');
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const phases = new Phases();
  const problems: string[] = [];
  const outcomes: Outcome[] = [];
  // make records when it started, before the setup script (apt, npm, tsc).
  const makeStart = Number(process.env['GCMA_T0'] ?? NaN);
  if (Number.isFinite(makeStart)) phases.list.push({ name: 'setup', seconds: (t0 - makeStart) / 1000, note: 'apt, npm, tsc, addon, C test' });

  const kernel = await phases.run(
    'kernel',
    async () => {
      const k = await testKernel((m) => console.log(m));
      return { k, module: await testModule(k, 'gcma_test', (m) => console.log(m)) };
    },
    (r) => `${r.k.release}${r.k.external ? ' (built elsewhere)' : ''}`,
  );

  let vmFiles = suiteFiles(root, 'vm');
  if (chosen.length) vmFiles = chooseSuites(vmFiles, chosen);
  else if (soak) vmFiles = chooseSuites(vmFiles, SOAK_SUITES);
  const onlyVm = chosen.length > 0 || soak;
  const projects: Project[] = onlyVm ? ['vm'] : ['host', 'boot', 'vm'];
  const files: Record<Project, string[]> = { host: suiteFiles(root, 'host'), boot: suiteFiles(root, 'boot'), vm: vmFiles };

  const listed = await phases.run(
    'list',
    async () => {
      const all = await listTests(root, projects, join(results, 'list.events.jsonl'), projects.flatMap((p) => files[p]));
      const missing = projects.flatMap((p) => files[p]).filter((f) => !all.has(f));
      if (missing.length) throw new Error(`jest did not list ${missing.map((f) => relative(root, f)).join(', ')}: is dist/ compiled (npm run build)?`);
      return Object.fromEntries(projects.map((p) => [p, new Map([...all].filter(([f]) => files[p].includes(f)))])) as Record<Project, typeof all>;
    },
    (l) => projects.map((p) => `${p} ${[...l[p].values()].reduce((n, t) => n + t.length, 0)}`).join(', '),
  );

  /** A jest project on the host: its tests without a result failed. */
  const hostProject = async (project: Project, inBand = false): Promise<Outcome> => {
    const events = join(results, `${project}.events.jsonl`);
    let why = 'jest ended before running it';
    try {
      await exec('node', jestArgs(root, project, files[project], inBand), { cwd: root, env: { ...process.env, GCMA_TEST_EVENTS: events } });
    } catch (err) {
      why = `jest ended early (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
    }
    return { project, collected: collect(listed[project], readEvents(events), why), why };
  };

  if (onlyVm) {
    const why = chosen.length ? `SUITES=${chosen.join(',')}` : '--soak';
    for (const p of ['host', 'boot', 'series']) phases.skip(p, why);
  } else {
    outcomes.push(await phases.run('host', () => hostProject('host'), (o) => counts(o.collected)));
    if (kernel.k.external) phases.skip('series', 'a kernel built elsewhere');
    else await phases.run(
      'series',
      async () => {
        try {
          const r = await checkSeriesBuilds({ flavour: kernel.k.flavour });
          console.log(`[series] ${r.built.length} prefixes built now, ${r.cached.length} built before`);
          return `${r.built.length} prefixes built, ${r.cached.length} built before`;
        } catch (err) {
          console.error(err instanceof Error ? err.message : String(err));
          problems.push('the series does not build patch by patch');
          return 'FAILED';
        }
      },
      (n) => n,
    );
  }

  // The boot tests run beside the VM suites, one boot at a time: the
  // suites' guest keeps about one of the host's two cores busy (jest runs
  // in band there), so the two together take little longer than the suites
  // alone.
  const boot = onlyVm ? undefined : phases.run('boot', () => hostProject('boot', true), (o) => `${counts(o.collected)}, beside vm`);
  outcomes.push(
    await phases.run(
      'vm',
      async (): Promise<Outcome> => {
        const dir = join(results, 'vm');
        mkdirSync(dir, { recursive: true });
        const events = join(dir, 'vm.events.jsonl');
        // A sparse scratch disk for the filesystem suites (/dev/vda), two for the integrity suite's filesystems.
        const disks = [
          sparseDisk(join(dir, 'scratch.img'), SCRATCH_DISK_BYTES),
          sparseDisk(join(dir, 'integrity0.img'), INTEGRITY_DISK_BYTES),
          sparseDisk(join(dir, 'integrity1.img'), INTEGRITY_DISK_BYTES),
        ];
        const [jest, ...jestRest] = jestArgs(root, 'vm', files.vm);
        let why = 'jest in the guest ended before running it';
        try {
          const r = await runInVm({
            bzImage: kernel.k.bzImage,
            command: [
              'sh',
              '-c',
              `node "$@"; rc=$?; grep debug_locks /proc/lockdep_stats > /run/gcma-results/${LOCKDEP_STATE}; exit $rc`,
              'vm-suites',
              jest!,
              ...jestRest,
            ],
            cwd: root,
            env: {
              GCMA_KERNEL_RELEASE: kernel.k.release,
              GCMA_KERNEL_FLAVOUR: kernel.k.flavour,
              ...(kernel.k.external ? { [EXTERNAL_KERNEL_ENV.bzImage]: kernel.k.bzImage } : {}),
              GCMA_TEST_MODULE: kernel.module,
              GCMA_SCRATCH_DISK: '/dev/vda',
              GCMA_INTEGRITY_DISKS: '/dev/vdb:/dev/vdc',
              GCMA_TEST_EVENTS: '/run/gcma-results/vm.events.jsonl',
              ...(soak ? { GCMA_SOAK: '1' } : {}),
              CI: 'true',
            },
            memoryMiB: VM_MEMORY_MIB,
            cmdline: soak ? VM_CMDLINE.soak : VM_CMDLINE.test,
            disks,
            resultsDir: dir,
            timeoutMs: soak ? VM_TIMEOUT_MS.soak : VM_TIMEOUT_MS.test,
          });
          console.log(`[vm] ${kernel.k.release} (${r.accel}) exit ${r.exitCode} in ${(r.durationMs / 1000).toFixed(1)}s`);
          if (r.exitCode !== 0) why = `jest in the guest exited ${r.exitCode} before running it`;
          // A lockdep report would have failed the run already; this catches
          // lockdep giving up silently (out of lock classes, chains, ...).
          const state = join(dir, LOCKDEP_STATE);
          const lockdep = existsSync(state) ? readFileSync(state, 'utf8').trim() : 'missing';
          console.log(`[vm] lockdep after the suites: ${lockdep}`);
          if (!/^debug_locks:\s+1$/.test(lockdep)) problems.push(`lockdep was not live at the end of the VM suites (${lockdep})`);
        } catch (err) {
          if (!(err instanceof VmError)) throw err;
          console.error(err.message);
          why = `the VM failed (${err.reason}: ${err.message.split('\n')[0]})`;
          problems.push(`VM run failed: ${err.reason}`);
        } finally {
          for (const d of disks) rmSync(d, { force: true });
        }
        return { project: 'vm', collected: collect(listed.vm, readEvents(events), why), why };
      },
      (o) => counts(o.collected),
    ),
  );

  if (boot) outcomes.splice(outcomes.length - 1, 0, await boot);
  for (const o of outcomes) await writeReports(o.collected.results, results, o.project);
  printSummary(root, phases, outcomes, problems, Date.now() - (Number.isFinite(makeStart) ? makeStart : t0));
  const failed = outcomes.reduce((n, o) => n + o.collected.results.numFailedTests, 0);
  return problems.length || failed || outcomes.some((o) => !o.collected.results.success) ? 1 : 0;
}

function counts(c: Collected): string {
  const r = c.results;
  return `${r.numPassedTests} passed, ${r.numFailedTests} failed${c.notRun ? ` (${c.notRun} did not run)` : ''}`;
}

function printSummary(root: string, phases: Phases, outcomes: readonly Outcome[], problems: readonly string[], totalMs: number): void {
  console.log('\n=== where the time went ===');
  console.log(
    table(
      ['phase', 'seconds', 'result'],
      [...phases.list.map((p) => [p.name, Number(p.seconds.toFixed(1)), p.note]), ['total', Number((totalMs / 1000).toFixed(1)), '']],
    ),
  );
  for (const o of outcomes) {
    if (o.project === 'host') continue; // many small files: the phase total says enough
    console.log(`\n${o.project} suites:`);
    const rows = o.collected.results.testResults.map((r) => [
      relative(root, r.testFilePath).replace(/^dist\//, '').replace(/\.js$/, '.ts'),
      Number(fileSeconds(r).toFixed(1)),
      `${r.numPassingTests} passed, ${r.numFailingTests} failed`,
    ]);
    console.log(table(['suite', 'seconds', 'tests'], rows));
  }

  console.log('\n=== summary ===');
  let passed = 0;
  let failed = 0;
  for (const o of outcomes) {
    const r = o.collected.results;
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    console.log(`${o.project}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
    if (o.collected.notRun) {
      const where = o.collected.interrupted ? `; ${relative(root, o.collected.interrupted)} was running` : '';
      console.log(`FAIL: ${o.collected.notRun} ${o.project} tests did not run and count as failed: ${o.why}${where}`);
    }
  }
  // The series check and each problem of the run (VM failure, lockdep off) count as one test each.
  const series = phases.list.find((p) => p.name === 'series');
  if (series && series.note !== 'FAILED' && !series.note.startsWith('skipped')) {
    passed++;
    console.log('series: every patch builds on its own');
  }
  for (const p of problems) console.log(`FAIL: ${p}`);
  failed += problems.length;
  const names = outcomes.map((o) => o.project);
  console.log(`reports: results/test/${names.length > 1 ? `{${names.join(',')}}` : names[0]}.{json,xml}`);
  console.log(`${passed} passed, ${failed} failed`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
