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
import { checkOptions, cmaParameters, type BenchOptions } from './options';
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
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as BenchReport;
    // What the guest cannot know: how it was run, and from what
    report.accel = r.accel;
    const commit = await projectCommit(root);
    if (commit) report.commit = commit;
    writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(resultsDir, 'cdf.svg'), renderCdfSvg(report));
    writeFileSync(join(resultsDir, 'table.txt'), `${formatReport(report)}\n`);
    return { report, resultsDir, exitCode: r.exitCode };
  } finally {
    rmSync(disk, { force: true });
  }
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
