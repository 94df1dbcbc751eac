/**
 * The benchmark, inside the guest: `node guest.js OPTIONS_JSON DISK`.
 * Needs gcma_test.ko loaded, a CMA reservation of twice the area and a
 * guaranteed CMA area as large as the area (cma= and gcma=, see
 * cmaParameters()). Prints progress; writes bench.json to the results
 * directory ($GCMA_RESULTS) or the current one.
 *
 * The guaranteed area is held allocated (it neither caches nor lends its
 * pages) except while it is measured, so phases 2 and 4 compare the same
 * memory as plain CMA and as GCMA, as before it existed.
 *
 * 1. data files on an ext4 scratch disk, larger than memory;
 * 2. file-read throughput with the whole reservation as plain CMA;
 * 3. half of it carved out as the GCMA area; the floor: allocation latency
 *    with the GCMA area and the guaranteed area holding no cached data;
 * 4. file-read throughput again, with the GCMA area caching;
 * 5. under pressure (readers, anonymous churn, writeback, direct I/O),
 *    allocations of every size from the GCMA area (gcma_alloc_range()),
 *    the guaranteed and the plain CMA area (both cma_alloc(): the same
 *    caller's path, only the backing differs), interleaved; then
 *    camera-sized dma-buf buffers from the two areas' CMA heaps, from
 *    JavaScript and from C (lib/bench/heaps.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { Device, type Allocation, type Area } from '../device';
import { GcmaError } from '../errors';
import { dropCaches, meminfoKiB } from '../procfs';
import { mountScratch } from '../scratch';
import { requireCleancacheStats, type CleancacheStats } from '../stats';
import { offCpuNs, parseTraceEvents, TraceInstance } from '../tracing';
import { measureHeaps, missingHeaps, type BenchHeap, type HeapResult } from './heaps';
import { measureRoundTrips, type RoundTrip } from './roundtrip';
import { checkOptions, GUARANTEED_AREA, type BenchOptions } from './options';
import { randomSource, shuffled } from './order';
import type { Allocator, BenchReport, Phase, Preconditions, SizeResult, Throughput } from './report';
import { summarize } from './stats';
import { startLoad } from './workers';

const MiB = 1024 * 1024;
const FILE_MIB = 64;
/** Round trips per caller and op, per floor repetition: 200 in the main job. */
const ROUND_TRIP_ROUNDS_PER_REP = 10;
const MOUNT = '/mnt/gcma-bench';

function log(msg: string): void {
  console.log(`[bench] ${msg}`);
}

function delta(a: CleancacheStats, b: CleancacheStats): CleancacheStats {
  const out = { ...b };
  for (const k of Object.keys(b) as Array<keyof CleancacheStats>) if (k !== 'cached') out[k] = b[k] - a[k];
  return out;
}

function makeDataFiles(disk: string, dataMiB: number): string[] {
  mountScratch(disk, MOUNT);
  const n = Math.max(1, Math.ceil(dataMiB / FILE_MIB));
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = join(MOUNT, `data${i}`);
    // Contents do not matter to the page cache or cleancache; zeroes are fastest to make.
    execFileSync('dd', ['if=/dev/zero', `of=${f}`, 'bs=1M', `count=${FILE_MIB}`, 'status=none']);
    files.push(f);
    if ((i + 1) % 4 === 0 || i === n - 1) log(`data files: ${(i + 1) * FILE_MIB}/${n * FILE_MIB} MiB`);
  }
  return files;
}

function throughput(config: Throughput['config'], files: readonly string[], seconds: number): Throughput {
  dropCaches();
  const before = requireCleancacheStats();
  const r = spawnSync(process.execPath, [join(__dirname, 'workers.js'), 'read', String(seconds), ...files], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reader failed: ${r.stderr}`);
  const { bytes, seconds: took } = JSON.parse(r.stdout) as { bytes: number; seconds: number };
  const t = { config, bytes, seconds: took, mibPerS: bytes / MiB / took, cleancache: delta(before, requireCleancacheStats()) };
  log(`throughput as ${config === 'cma' ? 'plain CMA' : 'GCMA area'}: ${t.mibPerS.toFixed(1)} MiB/s, restored ${t.cleancache.restored} pages`);
  return t;
}

function emptyResult(allocator: Allocator, phase: Phase, pages: number): SizeResult {
  return {
    allocator,
    phase,
    pages,
    attempts: 0,
    successes: 0,
    failures: {},
    kernelNs: [],
    jsNs: [],
    freeKernelNs: [],
    cachedBefore: [],
    areaCachedBefore: [],
    offCpuNs: [],
    kernel: null,
    js: null,
    free: null,
  };
}

/** What one measurement needs: the area and its results. */
interface Target {
  area: Area;
  result: SizeResult;
}

/**
 * One allocation and its free; failures are counted by code, not thrown.
 * With a trace instance: the copies in the range (those the allocation
 * recalled, from gcma:gcma_alloc_finish) for GCMA-backed areas, and the
 * time this thread spent off the CPU during the call (sched:sched_switch).
 */
function measure({ area, result: r }: Target, trace: TraceInstance | null): void {
  const gcmaBacked = area.backing !== 'cma';
  r.attempts++;
  if (gcmaBacked) r.areaCachedBefore.push(area.stats().cached);
  trace?.clear();
  const start = process.hrtime.bigint();
  let a;
  try {
    a = area.alloc(r.pages);
  } catch (err) {
    if (!(err instanceof GcmaError)) throw err;
    r.failures[err.code] = (r.failures[err.code] ?? 0) + 1;
  }
  const jsNs = Number(process.hrtime.bigint() - start);
  const text = trace?.take();
  if (gcmaBacked && text !== undefined) {
    // A guaranteed CMA area's GCMA area has its name
    const finish = parseTraceEvents(text, 'gcma').find((e) => e.event === 'gcma_alloc_finish' && e['name'] === area.name);
    if (finish) r.cachedBefore.push(Number(finish['recalled']));
  }
  if (!a) return;
  r.jsNs.push(jsNs);
  r.kernelNs.push(a.kernelNs);
  // The call's own events bound it: GCMA's for a GCMA area, CMA's for a CMA area
  const system = area.backing === 'gcma' ? 'gcma' : 'cma';
  const call = { start: `${system}_alloc_start`, finish: `${system}_alloc_finish`, name: area.name };
  const off = text === undefined ? null : offCpuNs(text, process.pid, call);
  if (off !== null) r.offCpuNs?.push(off);
  r.successes++;
  r.freeKernelNs.push(a.free().kernelNs);
}

function finish(r: SizeResult): SizeResult {
  return { ...r, kernel: summarize(r.kernelNs), js: summarize(r.jsNs), free: summarize(r.freeKernelNs) };
}

async function waitFor(what: string, done: () => boolean, timeoutS: number): Promise<boolean> {
  const until = Date.now() + timeoutS * 1000;
  while (!done()) {
    if (Date.now() > until) {
      log(`${what}: not reached in ${timeoutS} s, going on`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return true;
}

export async function runBench(o: BenchOptions, disk: string, resultsDir: string): Promise<BenchReport> {
  checkOptions(o);
  const startedAt = new Date().toISOString();
  using dev = Device.open();
  if (!dev.hasCma) throw new Error('no default CMA area: boot with cma=');
  const areaPages = (o.areaMiB * MiB) / dev.pageSize;
  const guaranteed = dev.cmaArea(GUARANTEED_AREA);
  if (guaranteed.backing !== 'cma+gcma' || guaranteed.pages !== areaPages) {
    throw new Error(`CMA area ${GUARANTEED_AREA} is ${guaranteed.backing}, ${guaranteed.pages} pages: boot with gcma=${GUARANTEED_AREA}:${o.areaMiB}M`);
  }
  let held: Allocation | undefined = guaranteed.alloc(guaranteed.pages);
  const releaseGuaranteed = (): void => {
    held?.free();
    held = undefined;
  };

  log(`phase 1/5: ${o.dataMiB} MiB of data files on ${disk}`);
  const files = makeDataFiles(disk, o.dataMiB);

  log(`phase 2/5: file reads for ${o.durationS} s, the reservation all plain CMA`);
  const asCma = throughput('cma', files, o.durationS);

  log(`phase 3/5: carve a ${o.areaMiB} MiB GCMA area out of the CMA reservation; the floor`);
  const gcma = dev.register(`bench-${process.pid}`, areaPages, { fromCma: true });
  const cma = dev.cmaArea();
  const results: SizeResult[] = [];
  const seed = o.seed ?? Date.now() % 2 ** 32;
  const random = randomSource(seed);
  // The allocations run on this thread: its pid is the thread's
  using trace = TraceInstance.open(`gcma-bench-${process.pid}`, {
    'gcma/gcma_alloc_start': null,
    'gcma/gcma_alloc_finish': null,
    'cma/cma_alloc_start': null,
    'cma/cma_alloc_finish': null,
    'sched/sched_switch': `prev_pid == ${process.pid} || next_pid == ${process.pid}`,
  });
  if (!trace) log('no gcma:, cma: or sched: trace events (tracefs): the copies in each range and the time off the CPU are not measured');
  /** Each repetition measures the allocators in a new random order. */
  const measureInTurn = (targets: Target[]): void => {
    for (const t of shuffled(targets, random)) measure(t, trace);
  };
  releaseGuaranteed();
  for (const pages of o.sizes) {
    const targets = [
      { area: gcma, result: emptyResult('gcma', 'floor', pages) },
      { area: guaranteed, result: emptyResult('cma+gcma', 'floor', pages) },
    ];
    for (let i = 0; i < o.floorReps; i++) measureInTurn(targets);
    results.push(...targets.map((t) => finish(t.result)));
  }
  held = guaranteed.alloc(guaranteed.pages);
  const floorCached = Math.max(0, ...results.flatMap((r) => r.areaCachedBefore));
  log(`floor: ${o.sizes.length} sizes x ${o.floorReps}, at most ${floorCached} cached pages in the areas`);
  // The calls' own cost, no pressure: JavaScript against C
  const trips = await measureRoundTrips(gcma, ROUND_TRIP_ROUNDS_PER_REP * o.floorReps, 1);
  const roundTrips: RoundTrip[] = typeof trips === 'string' ? [] : trips;
  if (typeof trips === 'string') log(`round trips not measured: ${trips}`);
  else log(`round trips: ${trips.map((t) => `${t.caller} ${t.op} p50 ${((t.summary?.p50 ?? 0) / 1000).toFixed(1)} us`).join(', ')}`);

  log(`phase 4/5: file reads for ${o.durationS} s, with the GCMA area`);
  const asGcma = throughput('gcma', files, o.durationS);

  log('phase 5/5: allocations under pressure');
  releaseGuaranteed();
  const load = startLoad({ files, dir: MOUNT, readers: 2, churnMiB: Math.round(o.memoryMiB / 4) });
  const before = requireCleancacheStats();
  let heapResults: HeapResult[] = [];
  let heapsSkipped: string | null = null;
  let preconditions: Preconditions;
  try {
    // Wanted: both GCMA-backed areas half full of copies, and the plain
    // CMA area half taken by movable pages the page allocator put there.
    const plainKiB = ((cma.pages - gcma.pages) * dev.pageSize) / 1024;
    const state = (): Omit<Preconditions, 'reached' | 'waitedS'> => ({
      wantedCached: areaPages / 2,
      gcmaCached: gcma.stats().cached,
      guaranteedCached: guaranteed.stats().cached,
      cmaAreaKiB: plainKiB,
      cmaFreeKiB: meminfoKiB('CmaFree') ?? plainKiB,
    });
    const met = (p: ReturnType<typeof state>): boolean =>
      p.gcmaCached >= p.wantedCached && p.guaranteedCached >= p.wantedCached && p.cmaFreeKiB <= p.cmaAreaKiB / 2;
    const waitStart = Date.now();
    const reached = await waitFor('GCMA areas half full of copies, the plain CMA area half full of movable pages', () => met(state()), 4 * o.durationS);
    preconditions = { ...state(), reached, waitedS: (Date.now() - waitStart) / 1000 };
    log(
      `pressure: GCMA area ${preconditions.gcmaCached}/${areaPages} pages cached, guaranteed area ${preconditions.guaranteedCached}/${areaPages}, ` +
        `CmaFree ${preconditions.cmaFreeKiB} of ${plainKiB} KiB${reached ? '' : ' (wanted: half of each; not reached)'}`,
    );
    for (const pages of o.sizes) {
      const targets = [
        { area: gcma, result: emptyResult('gcma', 'pressure', pages) },
        { area: guaranteed, result: emptyResult('cma+gcma', 'pressure', pages) },
        { area: cma, result: emptyResult('cma', 'pressure', pages) },
      ];
      for (let i = 0; i < o.reps; i++) measureInTurn(targets);
      results.push(...targets.map((t) => finish(t.result)));
      const [g, cg, c] = targets.map((t) => t.result) as [SizeResult, SizeResult, SizeResult];
      const p50 = (r: SizeResult): string => (r.kernelNs.length ? `${(summarize(r.kernelNs)!.p50 / 1000).toFixed(1)} us` : '-');
      log(`${pages} pages: GCMA ${g.successes}/${g.attempts} p50 ${p50(g)}, guaranteed CMA ${cg.successes}/${cg.attempts} p50 ${p50(cg)}, CMA ${c.successes}/${c.attempts} p50 ${p50(c)}`);
    }
    // The CMA heap of each area (patch 0014): the plain one is the default area's
    const heaps: BenchHeap[] = [
      { name: guaranteed.name, backing: 'cma+gcma' },
      { name: cma.name, backing: 'cma' },
    ];
    heapsSkipped = missingHeaps(heaps);
    if (heapsSkipped) log(`dma-buf heaps not measured: ${heapsSkipped}`);
    else heapResults = measureHeaps(heaps, o.heapSizesMiB, o.heapRounds, log);
  } finally {
    await load.stop();
  }
  const pressure = delta(before, requireCleancacheStats());
  const lookups = pressure.restored + pressure.missed;

  const report: BenchReport = {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    kernel: release(),
    cpus: cpus().length,
    seed,
    options: o,
    areas: {
      gcma: { name: gcma.name, range: gcma.range.format(), pages: gcma.pages },
      cma: { name: cma.name, range: cma.range.format(), pages: cma.pages - gcma.pages },
      'cma+gcma': { name: guaranteed.name, range: guaranteed.range.format(), pages: guaranteed.pages },
    },
    preconditions,
    rangeCopiesCounted: trace !== null,
    results,
    roundTrips,
    ...(typeof trips === 'string' ? { roundTripsSkipped: trips } : {}),
    heaps: heapResults,
    ...(heapsSkipped ? { heapsSkipped } : {}),
    throughput: [asCma, asGcma],
    cleancache: pressure,
    hitRate: lookups ? pressure.restored / lookups : null,
  };
  writeFileSync(join(resultsDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  execFileSync('umount', [MOUNT]);
  return report;
}

if (require.main === module) {
  const [json, disk] = process.argv.slice(2);
  if (!json || !disk) {
    console.error('usage: guest.js OPTIONS_JSON DISK');
    process.exit(2);
  }
  runBench(JSON.parse(json) as BenchOptions, disk, process.env['GCMA_RESULTS'] ?? process.cwd()).then(
    () => log('done'),
    (err: unknown) => {
      console.error(err instanceof Error ? err.stack ?? err.message : String(err));
      process.exit(1);
    },
  );
}
