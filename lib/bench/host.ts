/**
 * `gcma bench` on the host: boot the patched kernel with a CMA reservation
 * of twice the area, a guaranteed CMA area as large as the area, and a
 * scratch disk, run the guest side, then print the
 * table and write the report (bench.json, cdf.svg) to the results directory.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildKernel, type KernelBuild } from '../kernel/build';
import { projectRoot } from '../paths';
import { capture } from '../util/exec';
import { runInVm, sparseDisk } from '../vm/runner';
import { Device } from '../device';
import { meminfoKiB } from '../procfs';
import { checkPlace, type DataPlace } from '../scratch';
import { CARVED_AREA, runBench } from './guest';
import { checkOptions, cmaParameters, GUARANTEED_AREA, type BenchOptions } from './options';
import { formatReport, renderCdfSvg, type BenchReport } from './report';

export interface BenchRun {
  report: BenchReport;
  resultsDir: string;
  exitCode: number;
}

export interface BenchVmOptions {
  resultsDir?: string;
  log?: (m: string) => void;
  /** Another kernel and its gcma_test.ko; default: the default flavour and the checkout's module (make module). */
  kernel?: KernelBuild;
  module?: string;
}

export async function runBenchInVm(o: BenchOptions, opts: BenchVmOptions = {}): Promise<BenchRun> {
  checkOptions(o);
  const log = opts.log ?? ((m: string) => console.log(m));
  const root = projectRoot();
  const module = opts.module ?? join(root, 'kernel', 'module', 'gcma_test.ko');
  if (!existsSync(module)) throw new Error(`${module} is not built: run make module`);
  const kernel = opts.kernel ?? (await buildKernel({ log }));
  const resultsDir = opts.resultsDir ?? join(root, 'results', 'bench', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(resultsDir, { recursive: true });
  const disk = sparseDisk(join(resultsDir, 'scratch.img'), (o.dataMiB + 512) * 1024 * 1024);
  log(`[bench] guest: ${o.memoryMiB} MiB, ${cmaParameters(o).join(' ')}; results in ${resultsDir}`);
  try {
    const r = await runInVm({
      bzImage: kernel.bzImage,
      command: ['node', join(root, 'dist', 'lib', 'bench', 'guest.js'), JSON.stringify(o), '/dev/vda'],
      cwd: root,
      modules: [module],
      memoryMiB: o.memoryMiB,
      cmdline: cmaParameters(o),
      disks: [disk],
      resultsDir,
      timeoutMs: 3 * 3600 * 1000,
      output: (t) => process.stderr.write(t),
    });
    const reportFile = join(resultsDir, 'bench.json');
    if (r.exitCode !== 0 || !existsSync(reportFile)) throw new Error(`the benchmark failed in the guest (exit ${r.exitCode}); console: ${r.consoleLog}`);
    const report = await completeReport(JSON.parse(readFileSync(reportFile, 'utf8')) as BenchReport, r.accel, resultsDir);
    return { report, resultsDir, exitCode: r.exitCode };
  } finally {
    rmSync(disk, { force: true });
  }
}

/** Add what the measuring side cannot know (how it ran, from what commit); write bench.json, cdf.svg, table.txt. */
async function completeReport(report: BenchReport, accel: NonNullable<BenchReport['accel']>, resultsDir: string): Promise<BenchReport> {
  report.accel = accel;
  const commit = await projectCommit(projectRoot());
  if (commit) report.commit = commit;
  writeFileSync(join(resultsDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(resultsDir, 'cdf.svg'), renderCdfSvg(report));
  writeFileSync(join(resultsDir, 'table.txt'), `${formatReport(report)}\n`);
  return report;
}

/**
 * Why this machine cannot run the benchmark as `o` asks: its areas must be
 * what cmaParameters() boots the VM with (a default CMA area of twice the
 * area, the guaranteed area as large as the area), and a GCMA area carved
 * by an earlier run of this boot must be of the same size. Empty when it can.
 */
export function hereMismatches(o: BenchOptions, dev: Device): string[] {
  const areaPages = (o.areaMiB * 2 ** 20) / dev.pageSize;
  const mib = (pages: number): string => `${(pages * dev.pageSize) / 2 ** 20} MiB`;
  const cma = dev.cmaAreas();
  const problems: string[] = [];
  const plain = cma.find((a) => a.isDefault);
  if (!plain) problems.push('no default CMA area');
  else if (plain.pages !== 2 * areaPages) problems.push(`the default CMA area (${plain.name}) is ${mib(plain.pages)}, not ${2 * o.areaMiB} MiB`);
  const guaranteed = cma.find((a) => a.name === GUARANTEED_AREA);
  if (!guaranteed) problems.push(`no CMA area ${GUARANTEED_AREA}`);
  else if (guaranteed.backing !== 'cma+gcma' || guaranteed.pages !== areaPages) {
    problems.push(`CMA area ${GUARANTEED_AREA} is ${guaranteed.backing === 'cma+gcma' ? 'guaranteed' : 'plain'}, ${mib(guaranteed.pages)}; wanted guaranteed, ${o.areaMiB} MiB`);
  }
  const carved = dev.areas().find((a) => a.name === CARVED_AREA);
  if (carved && carved.pages !== areaPages) problems.push(`an earlier run of this boot carved a ${mib(carved.pages)} GCMA area (${CARVED_AREA}) out of the CMA area; this one wants ${o.areaMiB} MiB (reboot, or --area ${(carved.pages * dev.pageSize) / 2 ** 20})`);
  return problems;
}

export interface BenchHereOptions {
  /** Where the data files go (checked first: checkPlace()). */
  place: DataPlace;
  resultsDir?: string;
}

/**
 * `gcma bench --here`: the benchmark on this machine, no VM. Its memory is
 * this machine's (MemTotal), its areas must be the ones the options ask
 * for (hereMismatches()), and it makes a filesystem only on a disk it was
 * given to destroy.
 */
export async function runBenchHere(options: BenchOptions, opts: BenchHereOptions): Promise<BenchRun> {
  const place = checkPlace(opts.place);
  const memTotal = meminfoKiB('MemTotal');
  if (memTotal === null) throw new Error('no MemTotal in /proc/meminfo');
  const o = checkOptions({ ...options, memoryMiB: Math.floor(memTotal / 1024) });
  {
    using dev = Device.open();
    const problems = hereMismatches(o, dev);
    if (problems.length) throw new Error(`this machine is not booted for gcma bench --area ${o.areaMiB}:\n  ${problems.join('\n  ')}\nboot it with ${cmaParameters(o).join(' ')}`);
  }
  const resultsDir = opts.resultsDir ?? join(projectRoot(), 'results', 'bench', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(resultsDir, { recursive: true });
  const report = await completeReport(await runBench(o, place, resultsDir), 'none', resultsDir);
  return { report, resultsDir, exitCode: 0 };
}

/** The checkout's commit, with -dirty for uncommitted changes; null outside a git checkout. */
async function projectCommit(root: string): Promise<string | null> {
  try {
    const head = (await capture('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD'])).trim();
    const dirty = (await capture('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'])).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}
