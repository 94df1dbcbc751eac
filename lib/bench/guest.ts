/**
 * The benchmark, inside the guest: `node guest.js OPTIONS_JSON DISK`.
 * Needs gcma_test.ko loaded, a CMA reservation of twice the area and a
 * guaranteed CMA area as large as the area (cma= and gcma=, see
 * cmaParameters()). Prints progress; writes bench.json to the results
 * directory ($GCMA_RESULTS) or the current one.
 *
 * The guaranteed area is held allocated (it neither caches nor lends its
 * pages) except while it is measured.
 *
 * 1. data files on an ext4 scratch disk, larger than memory;
 * 2. half of the CMA reservation carved out as the GCMA area; the floor:
 *    allocation latency with the GCMA area and the guaranteed area holding
 *    no cached data, no pressure; the device's round trips, C against
 *    JavaScript;
 * 3. file-read throughput, streaming and a working set, with the
 *    reservation's memory free for nothing, for page cache (plain CMA) or
 *    for cleancache (GCMA), as much each time, runs interleaved;
 * 4. rounds under pressure (readers, anonymous churn, writeback, direct
 *    I/O): allocations of every size from the GCMA area
 *    (gcma_alloc_range()), the guaranteed and the plain CMA area (both
 *    cma_alloc(): the same caller's path, only the backing differs),
 *    interleaved, each followed by the same size again, the floor under
 *    the same pressure (the range just freed: no copies, no movable pages);
 * 5. camera-sized dma-buf buffers from the two areas' CMA heaps, from
 *    JavaScript and from C (lib/bench/heaps.ts), under the same pressure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { Device, type Allocation, type Area } from '../device';
import { GcmaError } from '../errors';
import { dropCaches, meminfoKiB, vmstatCounter } from '../procfs';
import { mountScratch, unmount, type DataPlace } from '../scratch';
import { cleancacheWorkingsetOnly, requireCleancacheStats, type CleancacheStats } from '../stats';
import { offCpu, parseTraceEvents, TraceInstance } from '../tracing';
import { measureHeaps, missingHeaps, type BenchHeap, type HeapResult } from './heaps';
import { measureRoundTrips, type RoundTrip } from './roundtrip';
import { checkOptions, GUARANTEED_AREA, type BenchOptions } from './options';
import { randomSource, shuffled } from './order';
import { THROUGHPUT_CONFIGS, WORKLOADS, type Allocator, type BenchReport, type Phase, type Preconditions, type SizeResult, type Throughput, type ThroughputConfig, type Workload } from './report';
import { summarize } from './stats';
import { startLoad } from './workers';

const MiB = 1024 * 1024;
const FILE_MIB = 64;
/** Round trips per caller and op, per floor repetition: 200 in the main job. */
const ROUND_TRIP_ROUNDS_PER_REP = 10;
const MOUNT = '/mnt/gcma-bench';

/** Progress on stderr: under gcma bench --here, stdout is the report's. */
function log(msg: string): void {
  console.error(`[bench] ${msg}`);
}

function delta(a: CleancacheStats, b: CleancacheStats): CleancacheStats {
  const out = { ...b };
  for (const k of Object.keys(b) as Array<keyof CleancacheStats>) if (k !== 'cached') out[k] = b[k] - a[k];
  return out;
}

/**
 * Where the data files go: a disk made into a new ext4 filesystem (the
 * VM's scratch disk, or gcma bench --here --disk DEV --yes-destroy), or a
 * directory on an ext4 filesystem already mounted (--here --scratch DIR),
 * in which the files get a directory of their own, removed after.
 */
function openDataDir(place: DataPlace): { dir: string; close: () => void } {
  if ('disk' in place) {
    mountScratch(place.disk, MOUNT);
    return { dir: MOUNT, close: () => unmount(MOUNT) };
  }
  const dir = mkdtempSync(join(place.dir, 'gcma-bench-'));
  return { dir, close: () => rmSync(dir, { recursive: true, force: true }) };
}

function makeDataFiles(dir: string, dataMiB: number): string[] {
  const n = Math.max(1, Math.ceil(dataMiB / FILE_MIB));
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = join(dir, `data${i}`);
    // Contents do not matter to the page cache or cleancache; zeroes are fastest to make.
    execFileSync('dd', ['if=/dev/zero', `of=${f}`, 'bs=1M', `count=${FILE_MIB}`, 'status=none']);
    files.push(f);
    if ((i + 1) % 4 === 0 || i === n - 1) log(`data files: ${(i + 1) * FILE_MIB}/${n * FILE_MIB} MiB`);
  }
  return files;
}

/**
 * What the reservation's memory is free for: the GCMA area and the plain
 * CMA area's free pages are held (allocated, so unused) or let go, so that
 * one configuration has no more memory than another.
 */
class ReservationUse {
  private gcmaHeld: Allocation | undefined;
  private plainHeld: Allocation[] = [];

  constructor(
    private readonly gcma: Area,
    private readonly plain: Area,
  ) {}

  set(config: ThroughputConfig): void {
    const cleancache = config === 'gcma' || config === 'gcma-all';
    cleancacheWorkingsetOnly(config !== 'gcma-all');
    if (cleancache && !this.gcmaHeld) this.gcmaHeld = this.gcma.alloc(this.gcma.pages);
    if (cleancache) {
      // Taken back and let go: no copies left from an earlier run
      this.gcmaHeld!.free();
      this.gcmaHeld = undefined;
    } else if (!this.gcmaHeld) {
      this.gcmaHeld = this.gcma.alloc(this.gcma.pages);
    }
    if (config === 'cma') {
      for (const a of this.plainHeld.splice(0)) a.free();
    } else if (!this.plainHeld.length) {
      this.plainHeld = holdFreePages(this.plain);
    }
  }

  release(): void {
    this.gcmaHeld?.free();
    this.gcmaHeld = undefined;
    for (const a of this.plainHeld.splice(0)) a.free();
  }
}

/** Allocate all of an area's free pages, in as few ranges as it takes (halving the size when one fails). */
function holdFreePages(area: Area): Allocation[] {
  const held: Allocation[] = [];
  for (let size = area.stats().free; size > 0; ) {
    try {
      held.push(area.alloc(size));
      size = area.stats().free;
    } catch (err) {
      if (!(err instanceof GcmaError)) throw err;
      size = Math.floor(size / 2);
    }
  }
  return held;
}

/** A reader child (workers.js read): the files for `seconds`, their first `limit` bytes only when not 0. */
function readFilesFor(files: readonly string[], seconds: number, limit: number): { bytes: number; seconds: number } {
  const r = spawnSync(process.execPath, [join(__dirname, 'workers.js'), 'read', String(seconds), String(limit), ...files], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reader failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { bytes: number; seconds: number };
}

function throughput(config: ThroughputConfig, workload: Workload, run: number, files: readonly string[], seconds: number, limitMiB: number): Throughput {
  dropCaches();
  const before = requireCleancacheStats();
  const { bytes, seconds: took } = readFilesFor(files, seconds, workload === 'working-set' ? limitMiB * MiB : 0);
  const t = { config, workload, run, bytes, seconds: took, mibPerS: bytes / MiB / took, cleancache: delta(before, requireCleancacheStats()) };
  log(`throughput run ${run}, ${workload}, ${config}: ${t.mibPerS.toFixed(1)} MiB/s, restored ${t.cleancache.restored} pages`);
  return t;
}

function emptyResult(allocator: Allocator, phase: Phase, pages: number, round?: number): SizeResult {
  return {
    allocator,
    phase,
    pages,
    ...(round === undefined ? {} : { round }),
    ...(phase === 'pressure-floor' ? { sameRange: 0 } : {}),
    attempts: 0,
    successes: 0,
    failures: {},
    kernelNs: [],
    jsNs: [],
    freeKernelNs: [],
    cachedBefore: [],
    areaCachedBefore: [],
    offCpuNs: [],
    preemptedNs: [],
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
 * Returns the first page frame allocated, or null.
 */
function measure({ area, result: r }: Target, trace: TraceInstance | null): number | null {
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
  if (!a) return null;
  r.jsNs.push(jsNs);
  r.kernelNs.push(a.kernelNs);
  // The call's own events bound it: GCMA's for a GCMA area, CMA's for a CMA area
  const system = area.backing === 'gcma' ? 'gcma' : 'cma';
  const call = { start: `${system}_alloc_start`, finish: `${system}_alloc_finish`, name: area.name };
  const off = text === undefined ? null : offCpu(text, process.pid, call);
  if (off !== null) {
    r.offCpuNs?.push(off.ns);
    r.preemptedNs?.push(off.preemptedNs);
  }
  r.successes++;
  r.freeKernelNs.push(a.free().kernelNs);
  return a.range.start;
}

/** An allocation under pressure, then the floor under the same pressure: the same size at once, in the range just freed. */
function measureWithFloor(t: { main: Target; floor: Target }, trace: TraceInstance | null): void {
  const start = measure(t.main, trace);
  if (measure(t.floor, trace) === start && start !== null) t.floor.result.sameRange!++;
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

/** The name of the GCMA area carved out of the CMA reservation: taken again by a later run of the same boot (areas are for good). */
export const CARVED_AREA = 'bench';

/** Run the benchmark with its data files in `place`; cleancache's store policy is left as it was found. */
export async function runBench(o: BenchOptions, place: DataPlace, resultsDir: string): Promise<BenchReport> {
  checkOptions(o);
  const policy = cleancacheWorkingsetOnly();
  const data = openDataDir(place);
  try {
    return await benchIn(o, 'disk' in place ? place.disk : place.dir, data.dir, resultsDir);
  } finally {
    data.close();
    if (policy !== null) cleancacheWorkingsetOnly(policy);
  }
}

async function benchIn(o: BenchOptions, where: string, dataDir: string, resultsDir: string): Promise<BenchReport> {
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

  log(`phase 1/5: ${o.dataMiB} MiB of data files on ${where}`);
  const files = makeDataFiles(dataDir, o.dataMiB);

  log(`phase 2/5: carve a ${o.areaMiB} MiB GCMA area out of the CMA reservation; the floor`);
  const gcma = dev.areas().find((a) => a.name === CARVED_AREA && a.pages === areaPages) ?? dev.register(CARVED_AREA, areaPages, { fromCma: true });
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
  releaseGuaranteed();
  for (const pages of o.sizes) {
    const targets = [
      { area: gcma, result: emptyResult('gcma', 'floor', pages) },
      { area: guaranteed, result: emptyResult('cma+gcma', 'floor', pages) },
    ];
    // Each repetition measures the allocators in a new random order
    for (let i = 0; i < o.floorReps; i++) for (const t of shuffled(targets, random)) measure(t, trace);
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

  log(`phase 3/5: file reads, ${o.throughputRuns} run(s) of ${o.durationS} s per workload and configuration, interleaved`);
  const use = new ReservationUse(gcma, cma);
  use.set('none');
  dropCaches();
  // The page cache's room: what it holds once more than memory was read
  readFilesFor(files, 0, Math.min(o.dataMiB, o.memoryMiB) * MiB);
  const filePages = (vmstatCounter('nr_active_file') ?? 0) + (vmstatCounter('nr_inactive_file') ?? 0);
  const pageCacheMiB = Math.floor((filePages * dev.pageSize) / MiB);
  const wanted = pageCacheMiB + Math.floor(o.areaMiB / 2);
  const workingSet = { mib: Math.min(wanted, o.dataMiB), pageCacheMiB, capped: wanted > o.dataMiB };
  log(`working set: ${workingSet.mib} MiB (page cache room ${pageCacheMiB} MiB + half the area${workingSet.capped ? ', capped at the data' : ''})`);
  const throughputs: Throughput[] = [];
  // Without the store policy's parameter every clean folio is stored: gcma-all is gcma
  const hasPolicy = cleancacheWorkingsetOnly() !== null;
  const configs = THROUGHPUT_CONFIGS.filter((c) => hasPolicy || c !== 'gcma-all');
  const combos = WORKLOADS.flatMap((workload) => configs.map((config) => ({ workload, config })));
  for (let run = 1; run <= o.throughputRuns; run++) {
    for (const { workload, config } of shuffled(combos, random)) {
      use.set(config);
      throughputs.push(throughput(config, workload, run, files, o.durationS, workingSet.mib));
    }
  }
  use.release();

  log(`phase 4/5: ${o.rounds} round(s) of allocations under pressure`);
  releaseGuaranteed();
  // The worst case for GCMA: areas full of copies, whatever the readers read
  const pressureStoresAll = cleancacheWorkingsetOnly(false) === false;
  const load = startLoad({ files, dir: dataDir, readers: 2, churnMiB: Math.round(o.memoryMiB / 4) });
  const before = requireCleancacheStats();
  let heapResults: HeapResult[] = [];
  let heapsSkipped: string | null = null;
  const roundPreconditions: Preconditions[] = [];
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
    const allocators = [
      { area: gcma, allocator: 'gcma' },
      { area: guaranteed, allocator: 'cma+gcma' },
      { area: cma, allocator: 'cma' },
    ] as const;
    // This thread only (its pid is its tid); threads and processes it
    // starts meanwhile are SCHED_OTHER (reset on fork)
    if (o.rtPriority !== undefined) execFileSync('chrt', ['--fifo', '--reset-on-fork', '--pid', String(o.rtPriority), String(process.pid)]);
    for (let round = 1; round <= o.rounds; round++) {
      const waitStart = Date.now();
      const reached = await waitFor('GCMA areas half full of copies, the plain CMA area half full of movable pages', () => met(state()), 4 * o.durationS);
      const p = { ...state(), reached, waitedS: (Date.now() - waitStart) / 1000 };
      roundPreconditions.push(p);
      log(
        `round ${round}/${o.rounds}: GCMA area ${p.gcmaCached}/${areaPages} pages cached, guaranteed area ${p.guaranteedCached}/${areaPages}, ` +
          `CmaFree ${p.cmaFreeKiB} of ${plainKiB} KiB${reached ? '' : ' (wanted: half of each; not reached)'}`,
      );
      for (const pages of o.sizes) {
        const pairs = allocators.map(({ area, allocator }) => ({
          main: { area, result: emptyResult(allocator, 'pressure', pages, round) },
          floor: { area, result: emptyResult(allocator, 'pressure-floor', pages, round) },
        }));
        for (let i = 0; i < o.reps; i++) for (const pair of shuffled(pairs, random)) measureWithFloor(pair, trace);
        results.push(...pairs.flatMap((pair) => [finish(pair.main.result), finish(pair.floor.result)]));
        const p50 = (r: SizeResult): string => (r.kernelNs.length ? `${(summarize(r.kernelNs)!.p50 / 1000).toFixed(1)} us` : '-');
        log(`round ${round}, ${pages} pages: ${pairs.map(({ main: { result: r } }) => `${r.allocator} ${r.successes}/${r.attempts} p50 ${p50(r)}`).join(', ')}`);
      }
    }
    if (o.rtPriority !== undefined) execFileSync('chrt', ['--other', '--pid', '0', String(process.pid)]);
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
    cleancacheWorkingsetOnly(true);
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
    ...(roundPreconditions[0] ? { preconditions: roundPreconditions[0] } : {}),
    roundPreconditions,
    workingSet,
    pressureStoresAll,
    rangeCopiesCounted: trace !== null,
    results,
    roundTrips,
    ...(typeof trips === 'string' ? { roundTripsSkipped: trips } : {}),
    heaps: heapResults,
    ...(heapsSkipped ? { heapsSkipped } : {}),
    throughput: throughputs,
    cleancache: pressure,
    hitRate: lookups ? pressure.restored / lookups : null,
  };
  writeFileSync(join(resultsDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

if (require.main === module) {
  const [json, disk] = process.argv.slice(2);
  if (!json || !disk) {
    console.error('usage: guest.js OPTIONS_JSON DISK');
    process.exit(2);
  }
  runBench(JSON.parse(json) as BenchOptions, { disk }, process.env['GCMA_RESULTS'] ?? process.cwd()).then(
    () => log('done'),
    (err: unknown) => {
      console.error(err instanceof Error ? err.stack ?? err.message : String(err));
      process.exit(1);
    },
  );
}
