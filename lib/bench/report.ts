/**
 * The benchmark's report: what the guest measured (JSON), the terminal
 * table, and a latency CDF per request size as SVG, GCMA against CMA,
 * like the GCMA paper's figure, with the guaranteed CMA area (cma_alloc()
 * on GCMA's pages) next to the plain one.
 */
import type { CleancacheStats } from '../stats';
import { HEAP_BACKINGS, type HeapBacking, type HeapResult } from './heaps';
import { ROUND_TRIP_CALLERS, type RoundTrip } from './roundtrip';
import type { BenchOptions } from './options';
import { percentile, summarize, type Summary } from './stats';
import { table } from '../util/table';

/**
 * gcma: gcma_alloc_range() on the GCMA area; cma: cma_alloc() on the plain
 * CMA area; cma+gcma: cma_alloc() on the guaranteed CMA area.
 */
export type Allocator = 'gcma' | 'cma' | 'cma+gcma';
/** In the order tables and pictures show them. */
export const ALLOCATORS: readonly Allocator[] = ['gcma', 'cma+gcma', 'cma'];
/**
 * floor: the areas empty (no copies, no movable pages), no pressure;
 * pressure: under pressure; pressure-floor: under the same pressure, right
 * after the allocator's pressure allocation was freed, the same size again:
 * the range just held (first fit), so no copies and no movable pages but
 * those that came in between the free and the allocation.
 */
export type Phase = 'floor' | 'pressure' | 'pressure-floor';

export interface SizeResult {
  allocator: Allocator;
  phase: Phase;
  pages: number;
  /** The round of the pressure phase (1-based); none for the floor and in older reports. */
  round?: number;
  /** pressure-floor: allocations that got the range the pressure allocation had just freed. */
  sameRange?: number;
  attempts: number;
  successes: number;
  /** Failed attempts by error code. */
  failures: Record<string, number>;
  /** Time in gcma_alloc_range() / cma_alloc(), ns, one per success. */
  kernelNs: number[];
  /** The same allocations timed around the addon's synchronous call, ns. */
  jsNs: number[];
  /** Time in gcma_free_range() / cma_release(), ns. */
  freeKernelNs: number[];
  /**
   * GCMA-backed areas: the copies in the range each allocation took, which
   * it recalled (gcma:gcma_alloc_finish); empty without trace events.
   */
  cachedBefore: number[];
  /** GCMA-backed areas: pages of the whole area holding copies just before each allocation. */
  areaCachedBefore: number[];
  /**
   * Time the allocating thread spent off the CPU during each successful
   * call, ns (sched:sched_switch between the call's cma: or gcma: start
   * and finish events), one per success; empty without trace events;
   * missing from older reports.
   */
  offCpuNs?: number[];
  /**
   * The part of offCpuNs the thread was runnable (switched out in state R:
   * preempted, or yielding at cond_resched()) rather than asleep; missing
   * from older reports.
   */
  preemptedNs?: number[];
  kernel: Summary | null;
  js: Summary | null;
  free: Summary | null;
}

/**
 * What the reservation's memory is free for during a throughput run, as
 * much of it each time: none (the GCMA and the plain CMA area both held,
 * as a carve-out would be), cma (the plain CMA area free: page cache can
 * use it), gcma (the GCMA area free: cleancache can, storing a working
 * set's folios, its default), gcma-all (the same, storing every clean
 * folio: cleancache.workingset_only=0).
 */
export type ThroughputConfig = 'none' | 'cma' | 'gcma' | 'gcma-all';
export const THROUGHPUT_CONFIGS: readonly ThroughputConfig[] = ['none', 'cma', 'gcma', 'gcma-all'];
/** stream: the data files round-robin, more than memory; working-set: their first workingSet.mib MiB, again and again. */
export type Workload = 'stream' | 'working-set';
export const WORKLOADS: readonly Workload[] = ['stream', 'working-set'];

export interface Throughput {
  config: ThroughputConfig;
  /** Missing from older reports: stream. */
  workload?: Workload;
  /** Which run of this workload and configuration (1-based); missing from older reports. */
  run?: number;
  bytes: number;
  seconds: number;
  mibPerS: number;
  cleancache: CleancacheStats;
}

/**
 * The state the pressure phase wanted before it measured: both GCMA-backed
 * areas at least half full of copies, and the plain CMA area at least half
 * taken by movable pages (CmaFree at most half of it); and what it got.
 */
export interface Preconditions {
  /** Copies wanted in each GCMA-backed area. */
  wantedCached: number;
  gcmaCached: number;
  guaranteedCached: number;
  /** The plain CMA area's size, and what of all CMA areas was free (CmaFree). */
  cmaAreaKiB: number;
  cmaFreeKiB: number;
  /** Whether all of it was reached before the wait gave up. */
  reached: boolean;
  waitedS: number;
}

export interface BenchReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  kernel: string;
  cpus: number;
  /** How the guest ran: QEMU with KVM or TCG, or 'none' (gcma bench --here: no VM); added by the host (missing from older reports). */
  accel?: 'kvm' | 'tcg' | 'none';
  /** The project's commit the run was made from (with -dirty for local changes); added by the host. */
  commit?: string;
  /** The seed of the allocators' random order. */
  seed?: number;
  options: BenchOptions;
  /** Round 1's; missing from reports of before it was recorded. */
  preconditions?: Preconditions;
  /** Each round's, in order; missing from reports of before rounds. */
  roundPreconditions?: Preconditions[];
  /**
   * The working-set workload's size: the page cache's room with the
   * reservation held (the file pages it holds after reading more than
   * memory) plus half the area, at most the data files; missing from
   * older reports.
   */
  workingSet?: { mib: number; pageCacheMiB: number; capped: boolean };
  /**
   * Whether the pressure phase stored every clean folio (cleancache.workingset_only=0),
   * so that the GCMA-backed areas fill with copies; missing from older reports.
   */
  pressureStoresAll?: boolean;
  /** Whether cachedBefore counts the copies in each range (the kernel has gcma: trace events). */
  rangeCopiesCounted?: boolean;
  /** The guaranteed area is missing from reports of before it was measured. */
  areas: Record<'gcma' | 'cma', { name: string; range: string; pages: number }> & { 'cma+gcma'?: { name: string; range: string; pages: number } };
  results: SizeResult[];
  /** The device's ioctls from C, JavaScript and JavaScript async, no pressure; missing from older reports. */
  roundTrips?: RoundTrip[];
  /** Why there are none (the C side not built). */
  roundTripsSkipped?: string;
  /** dma-buf heap allocations under pressure; missing from reports of before they were measured. */
  heaps?: HeapResult[];
  /** Why there are none (a kernel without the heaps). */
  heapsSkipped?: string;
  throughput: Throughput[];
  /** Cleancache counters over the pressure phase. */
  cleancache: CleancacheStats;
  /** restored / (restored + missed) over the pressure phase. */
  hitRate: number | null;
}

/** GCMA RFC v2 (2015, CuBox i4 Pro, 256 MiB area, background make -j16): average latency. */
export const RFC_ANCHOR: ReadonlyArray<{ pages: number; cmaUs: number; gcmaUs: number }> = [
  { pages: 1, cmaUs: 684, gcmaUs: 26 },
  { pages: 32000, cmaUs: 641_000, gcmaUs: 44_700 },
];

/**
 * An allocator's results for a phase and size: one round's, or with no
 * round given every round's samples pooled (summaries made again).
 */
function result(r: BenchReport, allocator: Allocator, phase: Phase, pages: number, round?: number): SizeResult | undefined {
  const xs = r.results.filter((x) => x.allocator === allocator && x.phase === phase && x.pages === pages && (round === undefined || x.round === round));
  if (xs.length <= 1) return xs[0];
  const cat = <K extends 'kernelNs' | 'jsNs' | 'freeKernelNs' | 'cachedBefore' | 'areaCachedBefore'>(k: K): number[] => xs.flatMap((x) => x[k]);
  const failures: Record<string, number> = {};
  for (const x of xs) for (const [code, n] of Object.entries(x.failures)) failures[code] = (failures[code] ?? 0) + n;
  const sum = (f: (x: SizeResult) => number | undefined): number => xs.reduce((a, x) => a + (f(x) ?? 0), 0);
  const pooled: SizeResult = {
    allocator,
    phase,
    pages,
    attempts: sum((x) => x.attempts),
    successes: sum((x) => x.successes),
    failures,
    kernelNs: cat('kernelNs'),
    jsNs: cat('jsNs'),
    freeKernelNs: cat('freeKernelNs'),
    cachedBefore: cat('cachedBefore'),
    areaCachedBefore: cat('areaCachedBefore'),
    kernel: null,
    js: null,
    free: null,
  };
  if (xs.every((x) => x.offCpuNs)) pooled.offCpuNs = xs.flatMap((x) => x.offCpuNs!);
  if (xs.every((x) => x.preemptedNs)) pooled.preemptedNs = xs.flatMap((x) => x.preemptedNs!);
  if (xs.every((x) => x.sameRange !== undefined)) pooled.sameRange = sum((x) => x.sameRange);
  return { ...pooled, kernel: summarize(pooled.kernelNs), js: summarize(pooled.jsNs), free: summarize(pooled.freeKernelNs) };
}

/** The rounds of the pressure phase in a report: [undefined] for one without rounds. */
function rounds(r: BenchReport): Array<number | undefined> {
  const n = [...new Set(r.results.filter((x) => x.phase === 'pressure').map((x) => x.round))].filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return n.length ? n : [undefined];
}

function median(v: readonly number[]): number | undefined {
  if (!v.length) return undefined;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1]! + s[m]!) / 2;
}

const us = (ns: number | undefined): string => (ns === undefined ? '-' : (ns / 1000).toFixed(ns < 10_000 ? 1 : 0));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? '-' : (a / b).toFixed(1));

/** The first column (sizes and labels) left, the formatted numbers right. */
function pad(rows: string[][]): string {
  return table(rows[0]!, rows.slice(1), rows[0]!.map((_, i) => (i === 0 ? 'left' : 'right')));
}

const ms = (ns: number | undefined): string => (ns === undefined ? '-' : (ns / 1e6).toFixed(ns < 10e6 ? 2 : 1));

/** The heap table: per size and side (C, JavaScript), each heap's latency, and CMA's over GCMA's. */
function formatHeaps(r: BenchReport): string[] {
  if (!r.heaps?.length) return r.heapsSkipped ? ['', `dma-buf heaps: not measured (${r.heapsSkipped})`] : [];
  const find = (backing: HeapBacking, from: 'c' | 'js', bytes: number): HeapResult | undefined => r.heaps!.find((x) => x.backing === backing && x.from === from && x.bytes === bytes);
  const head = ['MiB', 'from', ...HEAP_BACKINGS.flatMap((b) => [`${b} ok`, 'p50 ms', 'p99', 'close p50']), 'CMA/GCMA p50', 'p99'];
  const rows: string[][] = [head];
  for (const mib of r.options.heapSizesMiB ?? []) {
    for (const from of ['c', 'js'] as const) {
      const x = HEAP_BACKINGS.map((b) => find(b, from, mib * 1024 * 1024));
      if (x.every((y) => !y)) continue;
      const [g, c] = x;
      rows.push([
        String(mib),
        from === 'c' ? 'C' : 'JS',
        ...x.flatMap((y) => [y ? `${y.successes}/${y.attempts}` : '-', ms(y?.alloc?.p50), ms(y?.alloc?.p99), ms(y?.free?.p50)]),
        ratio(c?.alloc?.p50, g?.alloc?.p50),
        ratio(c?.alloc?.p99, g?.alloc?.p99),
      ]);
    }
  }
  const names = HEAP_BACKINGS.map((b) => `${b}: heap ${r.heaps!.find((x) => x.backing === b)?.heap ?? '-'}`).join('; ');
  return ['', `dma-buf heap allocations under pressure, DMA_HEAP_IOCTL_ALLOC (the heap zeroes each buffer) and the close that frees it (${names}):`, pad(rows)];
}

/** The mean number of copies in the ranges allocated (recalled by each allocation); '-' where not counted. */
function meanCopies(x: SizeResult): string {
  if (!x.cachedBefore.length) return '-';
  return (x.cachedBefore.reduce((a, b) => a + b, 0) / x.cachedBefore.length).toFixed(x.pages < 64 ? 2 : 0);
}

/**
 * The share of the calls' kernel time the thread spent off the CPU, and
 * after a slash the share it was runnable meanwhile (R: preempted or
 * yielding, not asleep); '-' where not measured.
 */
function offCpuShare(x: SizeResult): string {
  if (!offCpuMeasured(x)) return '-';
  const total = x.kernelNs.reduce((a, b) => a + b, 0);
  if (!total) return '-';
  const share = (ns: readonly number[]): string => `${((100 * ns.reduce((a, b) => a + b, 0)) / total).toFixed(0)}%`;
  return x.preemptedNs?.length === x.offCpuNs.length ? `${share(x.offCpuNs)}/${share(x.preemptedNs)}` : share(x.offCpuNs);
}

/** Whether the time off the CPU was measured for every successful call. */
function offCpuMeasured(x: SizeResult): x is SizeResult & { offCpuNs: number[] } {
  return !!x.offCpuNs?.length && x.offCpuNs.length === x.kernelNs.length;
}

/** The calls' time on the CPU (kernel time less time switched out); undefined where off-CPU time was not measured for every call. */
function onCpuNs(x: SizeResult): number[] | undefined {
  return offCpuMeasured(x) ? x.kernelNs.map((ns, i) => ns - x.offCpuNs[i]!) : undefined;
}

/** What the pressure phase wanted before measuring (each round), what it had, and whether it got there. */
function formatPreconditions(r: BenchReport): string[] {
  const all = r.roundPreconditions?.length ? r.roundPreconditions : r.preconditions ? [r.preconditions] : [];
  const policy = r.pressureStoresAll ? ['under pressure every clean folio is stored (cleancache.workingset_only=0), so that the areas fill with copies: the worst case for GCMA'] : [];
  if (r.options.rtPriority !== undefined) {
    policy.push(`under pressure the allocating thread is SCHED_FIFO, priority ${r.options.rtPriority} (--rt-priority), the pressure's tasks SCHED_OTHER`);
  }
  return policy.concat(all.map(
    (p, i) =>
      `pressure${all.length > 1 ? ` round ${i + 1}` : ''}: GCMA area ${p.gcmaCached}, guaranteed area ${p.guaranteedCached} pages holding copies (wanted >= ${p.wantedCached} each); ` +
      `CmaFree ${p.cmaFreeKiB} KiB of the plain area's ${p.cmaAreaKiB} (wanted <= half): ${p.reached ? 'reached' : 'NOT REACHED'} after ${p.waitedS.toFixed(0)} s`,
  ));
}

/** How often the floor under pressure got the range just freed, per allocator. */
function formatFreshRanges(r: BenchReport): string[] {
  const parts = ALLOCATORS.flatMap((a) => {
    const xs = r.results.filter((x) => x.allocator === a && x.phase === 'pressure-floor');
    if (!xs.length) return [];
    const same = xs.reduce((n, x) => n + (x.sameRange ?? 0), 0);
    return [`${a} ${same}/${xs.reduce((n, x) => n + x.successes, 0)}`];
  });
  if (!parts.length) return [];
  return [
    `(fresh): under the same pressure, the same size again right after each allocation was freed, so in the range just held (first fit: ${parts.join(', ')} got it),`,
    'with no copies and no movable pages but those that came in between: the floor of each allocator under pressure',
  ];
}

/**
 * The p99 and max over every attempt, of the successes' times `ns` and
 * `failed` failures counted as slower than any success (Infinity): an
 * allocator that fails more than 1% of its attempts has no finite p99, and
 * one that fails once no finite max. Undefined when nothing was attempted.
 */
function attemptsTail(ns: readonly number[], failed: number): { p99: number; max: number } | undefined {
  if (!ns.length && !failed) return undefined;
  const all = [...ns].sort((a, b) => a - b).concat(Array<number>(failed).fill(Infinity));
  return { p99: percentile(all, 99), max: all.at(-1)! };
}

/**
 * The targets of issue 16, per round and judged on the median round: a
 * value per round, their median, and whether the median meets the target.
 * The tail's (p99, max) count failed allocations as slower than any that
 * succeeded (attemptsTail()): inf in the table.
 */
function formatTargets(r: BenchReport): string[] {
  const rs = rounds(r);
  const rows: string[][] = [['target', 'pages', ...rs.map((x) => (x === undefined ? 'all' : `round ${x}`)), 'median', 'spread', 'wanted', '']];
  const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : 'inf');
  const add = (name: string, pages: string, values: Array<number | undefined>, ok: (v: number) => boolean, wanted: string): void => {
    const known = values.filter((v): v is number => v !== undefined);
    const m = median(known);
    const spread = known.length > 1 ? `${fmt(Math.min(...known))}-${fmt(Math.max(...known))}` : '-';
    rows.push([name, pages, ...values.map((v) => (v === undefined ? '-' : fmt(v))), m === undefined ? '-' : fmt(m), spread, wanted, m === undefined ? '' : ok(m) ? 'met' : 'MISSED']);
  };
  const per = (f: (round: number | undefined) => number | undefined): Array<number | undefined> => rs.map((x) => f(x));
  const q = (a: Allocator, phase: Phase, pages: number, round: number | undefined): Summary | null | undefined => result(r, a, phase, pages, round)?.kernel;
  const tail = (a: Allocator, pages: number, round: number | undefined) => {
    const x = result(r, a, 'pressure', pages, round);
    return x && attemptsTail(x.kernelNs, x.attempts - x.successes);
  };
  const div = (a: number | undefined, b: number | undefined): number | undefined => {
    const v = a === undefined || b === undefined || b === 0 ? NaN : a / b;
    return Number.isNaN(v) ? undefined : v;
  };
  for (const pages of r.options.sizes) {
    add('GCMA p99/p50', String(pages), per((x) => div(tail('gcma', pages, x)?.p99, q('gcma', 'pressure', pages, x)?.p50)), (v) => v <= 3, '<= 3');
  }
  for (const pages of r.options.sizes) {
    add('GCMA max/p50', String(pages), per((x) => div(tail('gcma', pages, x)?.max, q('gcma', 'pressure', pages, x)?.p50)), (v) => v <= 5, '<= 5');
  }
  // The same two on the time the thread ran (kernel time less off-CPU time):
  // the allocator's own work, without the CPU share the scheduler gave it
  const ranOverP50 = (pages: number, key: 'p99' | 'max') => (round: number | undefined): number | undefined => {
    const x = result(r, 'gcma', 'pressure', pages, round);
    const ran = x && onCpuNs(x);
    return ran && div(attemptsTail(ran, x.attempts - x.successes)?.[key], summarize(ran)?.p50);
  };
  for (const pages of r.options.sizes) add('GCMA on-CPU p99/p50', String(pages), per(ranOverP50(pages, 'p99')), (v) => v <= 3, '<= 3');
  for (const pages of r.options.sizes) add('GCMA on-CPU max/p50', String(pages), per(ranOverP50(pages, 'max')), (v) => v <= 5, '<= 5');
  for (const pages of r.options.sizes.filter((p) => p >= 8192)) {
    add('CMA p99/GCMA p99', String(pages), per((x) => div(tail('cma', pages, x)?.p99, tail('gcma', pages, x)?.p99)), (v) => v >= 20, '>= 20');
  }
  for (const pages of r.options.sizes) {
    add('GCMA p50/fresh p50', String(pages), per((x) => div(q('gcma', 'pressure', pages, x)?.p50, q('gcma', 'pressure-floor', pages, x)?.p50)), (v) => v <= 2, '<= 2');
  }
  const trip = (caller: string): number | undefined => r.roundTrips?.find((t) => t.caller === caller && t.op === 'alloc')?.summary?.p50;
  const js = div(trip('js'), trip('c'));
  add('JS/C sync ALLOC p50', '1', rs.map((_, i) => (i === 0 ? js : undefined)), (v) => v <= 1.3, '<= 1.3');
  return [
    '',
    `issue 16's targets, each round of the pressure phase and their median (the JavaScript one, from the round trips, once; on-CPU: the same on`,
    `the time the thread ran, kernel time less off-CPU time; a failed allocation counts as slower than any that succeeded: inf when more than`,
    `1% of a size's attempts failed (p99) or any did (max)):`,
    pad(rows),
  ];
}

/** Throughput per workload and configuration: the runs' median, spread, and the cleancache hit rate. */
function formatThroughput(r: BenchReport): string[] {
  const rows: string[][] = [['workload', 'memory for', 'runs', 'MiB/s median', 'min', 'max', 'restored', 'hit rate']];
  const names: Record<ThroughputConfig, string> = {
    none: 'nothing (held)',
    cma: 'page cache (CMA)',
    gcma: 'cleancache (GCMA)',
    'gcma-all': 'cleancache, all',
  };
  for (const w of WORKLOADS) {
    for (const c of THROUGHPUT_CONFIGS) {
      const xs = r.throughput.filter((t) => (t.workload ?? 'stream') === w && t.config === c);
      if (!xs.length) continue;
      const v = xs.map((t) => t.mibPerS);
      const restored = xs.reduce((n, t) => n + t.cleancache.restored, 0);
      const lookups = restored + xs.reduce((n, t) => n + t.cleancache.missed, 0);
      rows.push([w, names[c], String(xs.length), median(v)!.toFixed(1), Math.min(...v).toFixed(1), Math.max(...v).toFixed(1), String(restored), lookups ? `${((100 * restored) / lookups).toFixed(1)}%` : '-']);
    }
  }
  const ws = r.workingSet;
  const wsLine = ws ? `; working set: the first ${ws.mib} MiB of the files (page cache room ${ws.pageCacheMiB} MiB + half the area${ws.capped ? ', capped at the data' : ''}), after one pass not timed` : '';
  return ['', `file reads, ${r.options.durationS} s per run, runs interleaved in a random order; the reservation's ${r.options.areaMiB} MiB free for one use at a time${wsLine}:`, pad(rows)];
}

/** The round-trip table: each op from each caller, and JavaScript's over C's at p50. */
function formatRoundTrips(r: BenchReport): string[] {
  if (!r.roundTrips?.length) return r.roundTripsSkipped ? ['', `device round trips: not measured (${r.roundTripsSkipped})`] : [];
  const find = (caller: string, op: string): RoundTrip | undefined => r.roundTrips!.find((t) => t.caller === caller && t.op === op);
  const rows: string[][] = [['ioctl', ...ROUND_TRIP_CALLERS.flatMap((c) => [`${c} p50 us`, 'p99']), 'js/c p50', 'js-async/c p50']];
  for (const [op, name] of [['info', 'AREA_INFO'], ['alloc', 'ALLOC (1 page)']] as const) {
    const t = ROUND_TRIP_CALLERS.map((c) => find(c, op));
    rows.push([name, ...t.flatMap((x) => [us(x?.summary?.p50), us(x?.summary?.p99)]), ratio(t[1]?.summary?.p50, t[0]?.summary?.p50), ratio(t[2]?.summary?.p50, t[0]?.summary?.p50)]);
  }
  const n = r.roundTrips[0]!.ns.length;
  // The time outside the allocator: the round trip less kernel_ns, at p50 of each
  const outside = ROUND_TRIP_CALLERS.map((c) => {
    const t = find(c, 'alloc');
    const k = t?.kernelNs?.length ? summarize(t.kernelNs) : null;
    return t?.summary && k ? `${c} ${us(t.summary.p50 - k.p50)} us (allocator ${us(k.p50)})` : null;
  }).filter((x): x is string => x !== null);
  return [
    '',
    `the device's ioctls from C, from JavaScript (the addon's synchronous call) and asynchronously (worker thread, Promise), ${n} each, no pressure:`,
    pad(rows),
    ...(outside.length ? [`ALLOC outside the kernel's allocator (p50 round trip - p50 kernel_ns): ${outside.join(', ')}`] : []),
  ];
}

export function formatReport(r: BenchReport): string {
  const head = ['pages', 'alloc', 'ok', 'min us', 'p50', 'p90', 'p99', 'max', 'mean', 'js p50', 'free p50', 'copies', 'off-CPU/R'];
  const rows: string[][] = [head];
  const label: Record<Phase, string> = { pressure: '', 'pressure-floor': ' (fresh)', floor: ' (empty)' };
  for (const phase of ['pressure', 'pressure-floor', 'floor'] as const) {
    for (const pages of r.options.sizes) {
      for (const a of ALLOCATORS) {
        const x = result(r, a, phase, pages);
        if (!x) continue;
        rows.push([
          String(pages),
          `${a}${label[phase]}`,
          `${x.successes}/${x.attempts}`,
          us(x.kernel?.min),
          us(x.kernel?.p50),
          us(x.kernel?.p90),
          us(x.kernel?.p99),
          us(x.kernel?.max),
          us(x.kernel?.mean),
          us(x.js?.p50),
          us(x.free?.p50),
          meanCopies(x),
          offCpuShare(x),
        ]);
      }
    }
  }
  const ratios: string[][] = [['pages', 'CMA/GCMA mean', 'CMA/GCMA p99', 'CMA/guaranteed mean', 'CMA/guaranteed p99', 'GCMA/fresh p50', 'GCMA/empty p50', 'us/page GCMA', 'RFC CMA/GCMA']];
  for (const pages of r.options.sizes) {
    const g = result(r, 'gcma', 'pressure', pages);
    const c = result(r, 'cma', 'pressure', pages);
    const cg = result(r, 'cma+gcma', 'pressure', pages);
    const f = result(r, 'gcma', 'floor', pages);
    const fresh = result(r, 'gcma', 'pressure-floor', pages);
    const anchor = RFC_ANCHOR.find((a) => a.pages === pages);
    ratios.push([
      String(pages),
      ratio(c?.kernel?.mean, g?.kernel?.mean),
      ratio(c?.kernel?.p99, g?.kernel?.p99),
      ratio(c?.kernel?.mean, cg?.kernel?.mean),
      ratio(c?.kernel?.p99, cg?.kernel?.p99),
      ratio(g?.kernel?.p50, fresh?.kernel?.p50),
      ratio(g?.kernel?.p50, f?.kernel?.p50),
      g?.kernel ? (g.kernel.p50 / 1000 / pages).toFixed(3) : '-',
      anchor ? (anchor.cmaUs / anchor.gcmaUs).toFixed(1) : '',
    ]);
  }
  return [
    `kernel ${r.kernel} (${accelName(r)}${r.commit ? `, project ${r.commit}` : ''}${r.seed === undefined ? '' : `, order seed ${r.seed}`}), ${r.cpus} CPUs; GCMA area ${r.areas.gcma.pages} pages (${r.areas.gcma.range}), CMA area ${r.areas.cma.pages} pages` +
      (r.areas['cma+gcma'] ? `, guaranteed CMA area ${r.areas['cma+gcma'].pages} pages (${r.areas['cma+gcma'].range})` : ''),
    'gcma: gcma_alloc_range() on the GCMA area; cma: cma_alloc() on the plain CMA area; cma+gcma: cma_alloc() on the guaranteed CMA area',
    r.rangeCopiesCounted
      ? 'copies: mean cached copies in each range allocated (recalled by it, gcma:gcma_alloc_finish); off-CPU/R: share of the calls\' kernel time the thread was\n' +
        'switched out (sched:sched_switch), so preemption is told apart from the allocator\'s work, and of it runnable (state R: preempted or\n' +
        'yielding at cond_resched(), not asleep); allocators measured in a random order each repetition'
      : 'copies: not counted (no gcma: trace events)',
    ...formatPreconditions(r),
    '',
    `allocation latency, kernel side (us), under pressure (${rounds(r).length} round(s) pooled), the same fresh, and with an empty area:`,
    pad(rows),
    ...formatFreshRanges(r),
    '',
    'ratios in this run (the RFC\'s, 2015 ARM board, for comparison):',
    pad(ratios),
    ...formatTargets(r),
    ...formatRoundTrips(r),
    ...formatHeaps(r),
    ...formatThroughput(r),
    `cleancache under pressure: stored ${r.cleancache.stored}, restored ${r.cleancache.restored}, missed ${r.cleancache.missed}, reclaimed ${r.cleancache.reclaimed}, recalled ${r.cleancache.recalled}; hit rate ${r.hitRate === null ? '-' : `${(100 * r.hitRate).toFixed(1)}%`}`,
    '',
    r.accel === 'none'
      ? 'On the machine itself, no VM: absolute times are this machine\'s; still compare within the run, as ratios.'
      : r.accel === 'kvm'
        ? 'Under KVM the CPU is the host\'s, the devices emulated: compare within the run, as ratios.'
        : 'Under TCG the CPU is emulated: absolute times are not a device\'s; compare within the run, as ratios.',
  ].join('\n');
}

/** KVM or TCG, as the host recorded it (reports from before it did were all TCG runs), or no VM. */
function accelName(r: BenchReport): string {
  return r.accel === 'none' ? 'no VM' : (r.accel ?? 'tcg').toUpperCase();
}

const COLORS: Record<Allocator, string> = { gcma: '#1b7837', 'cma+gcma': '#2166ac', cma: '#b2182b' };

/**
 * One panel per size: the CDF of kernel-side latency, log-scale x, GCMA and
 * CMA under pressure (solid), and the floors (dashed): under the same
 * pressure in a fresh range where measured, else the empty areas.
 */
export function renderCdfSvg(r: BenchReport): string {
  const w = 320;
  const h = 220;
  const m = { l: 48, r: 12, t: 28, b: 36 };
  const panels = r.options.sizes.map((pages, i) => {
    const floor: Phase = r.results.some((x) => x.phase === 'pressure-floor') ? 'pressure-floor' : 'floor';
    const series = (['pressure', floor] as const).flatMap((phase) =>
      ALLOCATORS.map((a) => ({ a, phase, ns: [...(result(r, a, phase, pages)?.kernelNs ?? [])].sort((x, y) => x - y) })),
    );
    const all = series.flatMap((s) => s.ns);
    const lo = Math.log10(Math.max(1, Math.min(...all, 1e9)));
    const hi = Math.log10(Math.max(...all, 10));
    const span = Math.max(hi - lo, 0.5);
    const x = (ns: number): number => m.l + ((Math.log10(Math.max(ns, 1)) - lo) / span) * (w - m.l - m.r);
    const y = (q: number): number => h - m.b - q * (h - m.t - m.b);
    const lines = series
      .filter((s) => s.ns.length > 0)
      .map((s) => {
        const pts = s.ns.map((ns, k) => `${x(ns).toFixed(1)},${y((k + 1) / s.ns.length).toFixed(1)}`);
        const dash = s.phase !== 'pressure' ? ' stroke-dasharray="4 3"' : '';
        return `<polyline fill="none" stroke="${COLORS[s.a]}" stroke-width="2"${dash} points="${x(s.ns[0]!).toFixed(1)},${y(0)} ${pts.join(' ')}"/>`;
      });
    const ticks: string[] = [];
    for (let d = Math.ceil(lo); d <= Math.floor(lo + span); d++) {
      const label = d >= 6 ? `${10 ** (d - 6)} ms` : d >= 3 ? `${10 ** (d - 3)} us` : `${10 ** d} ns`;
      ticks.push(`<line x1="${x(10 ** d)}" x2="${x(10 ** d)}" y1="${y(0)}" y2="${y(1)}" stroke="#ddd"/><text x="${x(10 ** d)}" y="${h - m.b + 14}" font-size="10" text-anchor="middle">${label}</text>`);
    }
    const ox = (i % 3) * w;
    const oy = Math.floor(i / 3) * h;
    return `<g transform="translate(${ox},${oy})"><text x="${w / 2}" y="16" font-size="12" text-anchor="middle">${pages} page${pages > 1 ? 's' : ''}</text>${ticks.join('')}<line x1="${m.l}" x2="${w - m.r}" y1="${y(0)}" y2="${y(0)}" stroke="#000"/><line x1="${m.l}" x2="${m.l}" y1="${y(0)}" y2="${y(1)}" stroke="#000"/><text x="${m.l - 4}" y="${y(1) + 4}" font-size="10" text-anchor="end">1</text><text x="${m.l - 4}" y="${y(0.5) + 4}" font-size="10" text-anchor="end">0.5</text>${lines.join('')}</g>`;
  });
  const rowsN = Math.ceil(r.options.sizes.length / 3);
  const freshFloors = r.results.some((x) => x.phase === 'pressure-floor');
  const width = 3 * w;
  const height = rowsN * h + 30;
  const legend =
    ALLOCATORS.map((a, i) => `<line x1="${20 + i * 120}" x2="${40 + i * 120}" y1="${rowsN * h + 15}" y2="${rowsN * h + 15}" stroke="${COLORS[a]}" stroke-width="3"/><text x="${46 + i * 120}" y="${rowsN * h + 19}" font-size="12">${a.toUpperCase()}</text>`).join('') +
    `<line x1="${20 + 3 * 120}" x2="${40 + 3 * 120}" y1="${rowsN * h + 15}" y2="${rowsN * h + 15}" stroke="#555" stroke-width="2" stroke-dasharray="4 3"/><text x="${46 + 3 * 120}" y="${rowsN * h + 19}" font-size="12">${freshFloors ? 'fresh range (floor)' : 'empty area (floor)'}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>${panels.join('')}${legend}<text x="${width - 10}" y="${rowsN * h + 19}" font-size="11" text-anchor="end">CDF of kernel-side allocation latency under pressure and its floors (${r.kernel}, ${accelName(r)})</text></svg>\n`;
}
