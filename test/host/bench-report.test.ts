/** The benchmark's pure parts: percentiles, option checks, the table and the SVG from a report. */
import { checkOptions, cmaParameters, DEFAULT_OPTIONS, QUICK_OPTIONS } from '../../lib/bench/options';
import type { HeapBacking, HeapResult } from '../../lib/bench/heaps';
import { formatReport, renderCdfSvg, type Allocator, type BenchReport, type Phase, type SizeResult } from '../../lib/bench/report';
import { randomSource, shuffled } from '../../lib/bench/order';
import { percentile, summarize } from '../../lib/bench/stats';
import { isArgumentError } from '../../lib/errors';
import { caught } from '../support/throws';

describe('summaries', () => {
  it('takes nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(v, 50), percentile(v, 90), percentile(v, 99), percentile(v, 100)]).toEqual([50, 90, 99, 100]);
    expect(percentile([7], 99)).toBe(7);
  });

  it('summarizes unsorted samples; none gives null', () => {
    expect(summarize([30, 10, 20])).toEqual({ n: 3, min: 10, p50: 20, p90: 30, p99: 30, max: 30, mean: 20 });
    expect(summarize([])).toBeNull();
  });
});

describe('options', () => {
  it('accepts the defaults and the quick mode', () => {
    expect(checkOptions(DEFAULT_OPTIONS)).toBe(DEFAULT_OPTIONS);
    expect(checkOptions(QUICK_OPTIONS)).toBe(QUICK_OPTIONS);
    expect(checkOptions({ ...QUICK_OPTIONS, rtPriority: 50 }).rtPriority).toBe(50);
    expect(cmaParameters(DEFAULT_OPTIONS)).toEqual(['cma=256M', 'gcma=bench-guaranteed:128M']);
  });

  it.each([
    [{ reps: 0 }],
    [{ sizes: [] }],
    [{ sizes: [1.5] }],
    [{ sizes: [40000] }],
    [{ areaMiB: 512, memoryMiB: 1024 }],
    [{ heapRounds: 0 }],
    [{ heapSizesMiB: [0] }],
    [{ seed: -1 }],
    [{ rtPriority: 0 }],
    [{ rtPriority: 100 }],
    [{ seed: 2 ** 32 }],
    [{ heapSizesMiB: [1, 256] }],
  ])('refuses %p', (change) => {
    expect(isArgumentError(caught(() => checkOptions({ ...DEFAULT_OPTIONS, ...change })))).toBe(true);
  });
});

/** A result of `kernelNs.length` successes and `failed` ENOMEM failures. */
function sizeResult(allocator: Allocator, phase: Phase, pages: number, kernelNs: number[], copies: number[] = [], round?: number, failed = 1): SizeResult {
  return {
    allocator,
    phase,
    pages,
    ...(round === undefined ? {} : { round }),
    ...(phase === 'pressure-floor' ? { sameRange: kernelNs.length } : {}),
    attempts: kernelNs.length + failed,
    successes: kernelNs.length,
    failures: failed ? { ENOMEM: failed } : {},
    kernelNs,
    jsNs: kernelNs.map((n) => n + 1000),
    freeKernelNs: kernelNs,
    cachedBefore: copies,
    areaCachedBefore: copies.map((c) => c + 100),
    offCpuNs: kernelNs.map((n) => n / 4),
    preemptedNs: kernelNs.map((n) => n / 8),
    kernel: summarize(kernelNs),
    js: summarize(kernelNs.map((n) => n + 1000)),
    free: summarize(kernelNs),
  };
}

const zero = { stored: 0, skipped: 0, restored: 0, missed: 0, reclaimed: 0, recalled: 0, invalidated: 0, cached: 0 };
const report: BenchReport = {
  version: 1,
  startedAt: '',
  finishedAt: '',
  kernel: '6.12.117-gcma',
  cpus: 2,
  accel: 'tcg',
  commit: '0123456789ab',
  seed: 7,
  options: { ...QUICK_OPTIONS, sizes: [1, 64] },
  preconditions: { wantedCached: 2048, gcmaCached: 4000, guaranteedCached: 768, cmaAreaKiB: 16384, cmaFreeKiB: 1024, reached: false, waitedS: 12 },
  rangeCopiesCounted: true,
  areas: {
    gcma: { name: 'bench', range: '0x0-0xfff', pages: 4096 },
    cma: { name: 'reserved', range: '0x1000-0x2fff', pages: 4096 },
    'cma+gcma': { name: 'bench-guaranteed', range: '0x3000-0x3fff', pages: 4096 },
  },
  results: [
    sizeResult('gcma', 'floor', 1, [1000, 2000]),
    sizeResult('gcma', 'pressure', 1, [2000, 4000], [1, 2, 0]),
    sizeResult('cma', 'pressure', 1, [200_000, 400_000]),
    sizeResult('cma+gcma', 'pressure', 1, [20_000, 40_000]),
    sizeResult('gcma', 'pressure', 64, [10_000]),
    sizeResult('cma', 'pressure', 64, []),
  ],
  throughput: [
    { config: 'cma', bytes: 1, seconds: 1, mibPerS: 100, cleancache: zero },
    { config: 'gcma', bytes: 1, seconds: 1, mibPerS: 120, cleancache: { ...zero, restored: 10 } },
  ],
  cleancache: { ...zero, restored: 3, missed: 1 },
  hitRate: 0.75,
};

it('tabulates latencies, ratios next to the RFC anchor, and throughput', () => {
  const t = formatReport(report);
  // The mean of the copies in each range allocated, (1 + 2 + 0) / 3; off the
  // CPU (2000 + 4000) / 4 of the calls' 2000 + 4000 ns in the kernel: 25%,
  // runnable an eighth: 13% (12.5 rounded)
  expect(t).toMatch(/^1\s+gcma\s+2\/3\s+2\.0\s+2\.0\s+4\.0\s+4\.0\s+4\.0\s+3\.0\s+3\.0\s+2\.0\s+1\.00\s+25%\/13%$/m);
  expect(t).toMatch(/^1\s+cma\s+2\/3\s+200\s+200\s+400\s+400\s+400\s+300\s+201\s+200\s+-\s+\d+%\/\d+%$/m);
  expect(t).toMatch(/^64\s+cma\s+0\/1(\s+-){10}$/m);
  expect(t).toMatch(/^1\s+cma\+gcma\s+2\/3\s+20\s+20\s+40\s+40\s+40\s+30\s+21\s+20\s+-\s+\d+%\/\d+%$/m);
  expect(t).toContain('kernel 6.12.117-gcma (TCG, project 0123456789ab, order seed 7)');
  expect(t).toContain('guaranteed area 768 pages holding copies (wanted >= 2048 each); CmaFree 1024 KiB of the plain area\'s 16384 (wanted <= half): NOT REACHED after 12 s');
  expect(t).toContain('Under TCG the CPU is emulated');
  // CMA/GCMA mean 300/3 = 100, p99 400/4 = 100, CMA/guaranteed 300/30 = 10 and 400/40 = 10,
  // no fresh floor, GCMA/empty p50 2/1 = 2, 2 us per page, RFC 684/26 = 26.3; no guaranteed row for 64 pages
  expect(t).toMatch(/^1\s+100\.0\s+100\.0\s+10\.0\s+10\.0\s+-\s+2\.0\s+2\.000\s+26\.3$/m);
  expect(t).toMatch(/^64\s+-\s+-\s+-\s+-\s+-\s+-\s+0\.156\s*$/m);
  expect(t).toContain('guaranteed CMA area 4096 pages (0x3000-0x3fff)');
  // An older report's two throughputs: streaming, one run each
  expect(t).toMatch(/^stream\s+page cache \(CMA\)\s+1\s+100\.0\s+100\.0\s+100\.0\s+0\s+-$/m);
  expect(t).toMatch(/^stream\s+cleancache \(GCMA\)\s+1\s+120\.0\s+120\.0\s+120\.0\s+10\s+100\.0%$/m);
  expect(t).toContain('hit rate 75.0%');
});

it('pools the rounds, and judges the targets per round on the median round', () => {
  const rounds = [1, 2, 3];
  const t = formatReport({
    ...report,
    options: { ...report.options, sizes: [8192] },
    results: [
      // GCMA p99/p50 and max/p50: 2, 4, 6; CMA p99 over GCMA's: 50, 25, 16.7; fresh p50 500: 2 each round
      ...rounds.map((r) => sizeResult('gcma', 'pressure', 8192, [1000, 2000 * r], [], r, 0)),
      ...rounds.map((r) => sizeResult('gcma', 'pressure-floor', 8192, [500, 600], [0, 0], r)),
      ...rounds.map((r) => sizeResult('cma', 'pressure', 8192, [50_000, 100_000], [], r, 0)),
    ],
    roundPreconditions: rounds.map((r) => ({ ...report.preconditions!, reached: r !== 2, waitedS: r })),
    roundTrips: [
      { caller: 'c', op: 'alloc', pages: 1, ns: [10_000], summary: summarize([10_000]) },
      { caller: 'js', op: 'alloc', pages: 1, ns: [12_000], summary: summarize([12_000]) },
    ],
    throughput: [
      ...[100, 120, 110].map((v, i) => ({ config: 'cma' as const, workload: 'stream' as const, run: i + 1, bytes: 1, seconds: 1, mibPerS: v, cleancache: zero })),
      { config: 'none', workload: 'working-set', run: 1, bytes: 1, seconds: 1, mibPerS: 50, cleancache: zero },
      { config: 'gcma', workload: 'working-set', run: 1, bytes: 1, seconds: 1, mibPerS: 70, cleancache: { ...zero, restored: 30, missed: 10 } },
    ],
    workingSet: { mib: 700, pageCacheMiB: 640, capped: false },
  });
  // Pooled: [1, 1, 1, 2, 4, 6] us, 6 of 9; p50 1, p99 and max 6
  expect(t).toMatch(/^8192\s+gcma\s+6\/6\s+1\.0\s+1\.0\s+6\.0\s+6\.0\s+6\.0/m);
  expect(t).toMatch(/^8192\s+gcma \(fresh\)\s+6\/9\s+0\.5\s+0\.5/m);
  expect(t).toContain('(first fit: gcma 6/6 got it)');
  expect(t).toMatch(/^target\s+pages\s+round 1\s+round 2\s+round 3\s+median\s+spread\s+wanted$/m);
  expect(t).toMatch(/^GCMA p99\/p50\s+8192\s+2\.0\s+4\.0\s+6\.0\s+4\.0\s+2\.0-6\.0\s+<= 3\s+MISSED$/m);
  expect(t).toMatch(/^GCMA max\/p50\s+8192\s+2\.0\s+4\.0\s+6\.0\s+4\.0\s+2\.0-6\.0\s+<= 5\s+met$/m);
  // A quarter of each call off the CPU: the same ratios on the CPU
  expect(t).toMatch(/^GCMA on-CPU p99\/p50\s+8192\s+2\.0\s+4\.0\s+6\.0\s+4\.0\s+2\.0-6\.0\s+<= 3\s+MISSED$/m);
  expect(t).toMatch(/^CMA p99\/GCMA p99\s+8192\s+50\.0\s+25\.0\s+16\.7\s+25\.0\s+16\.7-50\.0\s+>= 20\s+met$/m);
  expect(t).toMatch(/^GCMA p50\/fresh p50\s+8192\s+2\.0\s+2\.0\s+2\.0\s+2\.0\s+2\.0-2\.0\s+<= 2\s+met$/m);
  expect(t).toMatch(/^JS\/C sync ALLOC p50\s+1\s+1\.2\s+-\s+-\s+1\.2\s+-\s+<= 1\.3\s+met$/m);
  expect(t).toContain('pressure round 2: GCMA area 4000');
  expect(t).toMatch(/pressure round 2: .*NOT REACHED after 2 s/);
  expect(t).toMatch(/pressure round 3: .*: reached after 3 s/);
  expect(t).toMatch(/^stream\s+page cache \(CMA\)\s+3\s+110\.0\s+100\.0\s+120\.0\s+0\s+-$/m);
  expect(t).toMatch(/^working-set\s+nothing \(held\)\s+1\s+50\.0\s+50\.0\s+50\.0\s+0\s+-$/m);
  expect(t).toMatch(/^working-set\s+cleancache \(GCMA\)\s+1\s+70\.0\s+70\.0\s+70\.0\s+30\s+75\.0%$/m);
  expect(t).toContain('working set: the first 700 MiB of the files (page cache room 640 MiB + half the area)');
  expect(renderCdfSvg({ ...report, results: [sizeResult('gcma', 'pressure-floor', 1, [500])] })).toContain('fresh range (floor)');
});

it('judges the tail targets on the time the thread ran too: kernel time less time switched out', () => {
  // 1, 1 and 10 ms in the kernel, the last one 9 ms switched out: on the CPU 1 ms each
  const gcma = { ...sizeResult('gcma', 'pressure', 8192, [1_000_000, 1_000_000, 10_000_000], [], undefined, 0), offCpuNs: [0, 0, 9_000_000] };
  const t = formatReport({ ...report, options: { ...report.options, sizes: [8192] }, results: [gcma] });
  expect(t).toMatch(/^GCMA p99\/p50\s+8192\s+10\.0\s+10\.0\s+-\s+<= 3\s+MISSED$/m);
  expect(t).toMatch(/^GCMA on-CPU p99\/p50\s+8192\s+1\.0\s+1\.0\s+-\s+<= 3\s+met$/m);
  expect(t).toMatch(/^GCMA on-CPU max\/p50\s+8192\s+1\.0\s+1\.0\s+-\s+<= 5\s+met$/m);
  expect(t).not.toContain('SCHED_FIFO');
  expect(formatReport({ ...report, options: { ...report.options, rtPriority: 50 } })).toContain('the allocating thread is SCHED_FIFO, priority 50 (--rt-priority)');
  // Not measured for every call: no value
  const t2 = formatReport({ ...report, options: { ...report.options, sizes: [8192] }, results: [{ ...gcma, offCpuNs: [0] }] });
  expect(t2).toMatch(/^GCMA on-CPU p99\/p50\s+8192\s+-\s+-\s+-\s+<= 3\s*$/m);
});

it('counts a failed allocation as slower than any that succeeded: over 1% failed, no finite p99; one, no finite max', () => {
  const ms = (n: number, v = 1_000_000): number[] => Array<number>(n).fill(v);
  const judge = (gcma: SizeResult, cma: SizeResult): string => formatReport({ ...report, options: { ...report.options, sizes: [8192] }, results: [gcma, cma] });
  // Plain CMA failed every time, GCMA never: met, however slow GCMA was
  let t = judge(sizeResult('gcma', 'pressure', 8192, ms(100), [], undefined, 0), sizeResult('cma', 'pressure', 8192, [], [], undefined, 100));
  expect(t).toMatch(/^CMA p99\/GCMA p99\s+8192\s+inf\s+inf\s+-\s+>= 20\s+met$/m);
  expect(t).toMatch(/^GCMA max\/p50\s+8192\s+1\.0\s+1\.0\s+-\s+<= 5\s+met$/m);
  // The control: CMA succeeding as slowly as GCMA misses it
  t = judge(sizeResult('gcma', 'pressure', 8192, ms(100), [], undefined, 0), sizeResult('cma', 'pressure', 8192, ms(100), [], undefined, 0));
  expect(t).toMatch(/^CMA p99\/GCMA p99\s+8192\s+1\.0\s+1\.0\s+-\s+>= 20\s+MISSED$/m);
  // One GCMA failure in 100: p99 stays finite, max does not
  t = judge(sizeResult('gcma', 'pressure', 8192, ms(99), [], undefined, 1), sizeResult('cma', 'pressure', 8192, ms(100, 50_000_000), [], undefined, 0));
  expect(t).toMatch(/^GCMA p99\/p50\s+8192\s+1\.0\s+1\.0\s+-\s+<= 3\s+met$/m);
  expect(t).toMatch(/^GCMA max\/p50\s+8192\s+inf\s+inf\s+-\s+<= 5\s+MISSED$/m);
  expect(t).toMatch(/^GCMA on-CPU max\/p50\s+8192\s+inf\s+inf\s+-\s+<= 5\s+MISSED$/m);
  expect(t).toMatch(/^CMA p99\/GCMA p99\s+8192\s+50\.0\s+50\.0\s+-\s+>= 20\s+met$/m);
  // Two: p99 neither, and no ratio to CMA's
  t = judge(sizeResult('gcma', 'pressure', 8192, ms(98), [], undefined, 2), sizeResult('cma', 'pressure', 8192, ms(100, 50_000_000), [], undefined, 0));
  expect(t).toMatch(/^GCMA p99\/p50\s+8192\s+inf\s+inf\s+-\s+<= 3\s+MISSED$/m);
  expect(t).toMatch(/^CMA p99\/GCMA p99\s+8192\s+0\.0\s+0\.0\s+-\s+>= 20\s+MISSED$/m);
});

function heapResult(backing: HeapBacking, from: 'c' | 'js', mib: number, allocNs: number[]): HeapResult {
  const heap = backing === 'cma' ? 'reserved' : 'bench-guaranteed';
  const failures: Record<string, number> = allocNs.length < 2 ? { EBUSY: 2 - allocNs.length } : {};
  return { heap, backing, from, bytes: mib * 2 ** 20, attempts: 2, successes: allocNs.length, failures, allocNs, freeNs: allocNs.map(() => 500_000), alloc: summarize(allocNs), free: allocNs.length ? summarize(allocNs.map(() => 500_000)) : null };
}

it('tabulates the round trips from C and JavaScript, and JavaScript over C', () => {
  const trip = (caller: 'c' | 'js' | 'js-async', op: 'info' | 'alloc', ns: number[], kernelNs?: number[]) => ({ caller, op, pages: 1, ns, summary: summarize(ns), ...(kernelNs ? { kernelNs } : {}) });
  const t = formatReport({
    ...report,
    roundTrips: [
      trip('c', 'info', [10_000, 20_000]),
      trip('c', 'alloc', [40_000], [30_000]),
      trip('js', 'info', [13_000]),
      trip('js', 'alloc', [52_000], [32_000]),
      trip('js-async', 'info', [50_000]),
      trip('js-async', 'alloc', [100_000]),
    ],
  });
  // Outside the allocator: 40 - 30 and 52 - 32 us; the async side has no kernel_ns here
  expect(t).toContain('ALLOC outside the kernel\'s allocator (p50 round trip - p50 kernel_ns): c 10 us (allocator 30), js 20 us (allocator 32)\n');
  expect(t).toMatch(/^ioctl\s+c p50 us\s+p99\s+js p50 us\s+p99\s+js-async p50 us\s+p99\s+js\/c p50\s+js-async\/c p50$/m);
  // p50 of [10, 20] us is 10 (nearest rank); 13/10 = 1.3, 50/10 = 5.0, 52/40 = 1.3, 100/40 = 2.5
  expect(t).toMatch(/^AREA_INFO\s+10\s+20\s+13\s+13\s+50\s+50\s+1\.3\s+5\.0$/m);
  expect(t).toMatch(/^ALLOC \(1 page\)\s+40\s+40\s+52\s+52\s+100\s+100\s+1\.3\s+2\.5$/m);
  expect(formatReport({ ...report, roundTripsSkipped: 'lib/bench/ioctl_roundtrip is not built' })).toContain('device round trips: not measured (lib/bench/ioctl_roundtrip is not built)');
});

it('says KVM or TCG from the report, in the table and the picture', () => {
  const kvm = { ...report, accel: 'kvm' as const };
  expect(formatReport(kvm)).toContain('(KVM, project');
  expect(formatReport(kvm)).toContain('Under KVM');
  expect(renderCdfSvg(kvm)).toContain('(6.12.117-gcma, KVM)');
  expect(renderCdfSvg(report)).toContain('(6.12.117-gcma, TCG)');
  const { accel: _accel, commit: _commit, seed: _seed, preconditions: _p, rangeCopiesCounted: _r, ...old } = report;
  expect(formatReport(old)).toContain('kernel 6.12.117-gcma (TCG), 2 CPUs');
  expect(formatReport(old)).toContain('copies: not counted');
});

it('tabulates the heaps: each side, each heap, and the CMA heap over the GCMA-backed one', () => {
  const t = formatReport({
    ...report,
    options: { ...report.options, heapSizesMiB: [1, 8] },
    heaps: [
      heapResult('cma+gcma', 'c', 1, [1e6, 2e6]),
      heapResult('cma', 'c', 1, [4e6, 8e6]),
      heapResult('cma+gcma', 'js', 1, [2e6, 3e6]),
      heapResult('cma', 'js', 1, [5e6, 9e6]),
      heapResult('cma+gcma', 'c', 8, [12e6, 14e6]),
      heapResult('cma', 'c', 8, []),
    ],
  });
  expect(t).toContain('cma+gcma: heap bench-guaranteed; cma: heap reserved');
  expect(t).toMatch(/^MiB\s+from\s+cma\+gcma ok\s+p50 ms\s+p99\s+close p50\s+cma ok\s+p50 ms\s+p99\s+close p50\s+CMA\/GCMA p50\s+p99$/m);
  // p50 4/1 ms = 4.0, p99 8/2 = 4.0
  expect(t).toMatch(/^1\s+C\s+2\/2\s+1\.00\s+2\.00\s+0\.50\s+2\/2\s+4\.00\s+8\.00\s+0\.50\s+4\.0\s+4\.0$/m);
  expect(t).toMatch(/^1\s+JS\s+2\/2\s+2\.00\s+3\.00\s+0\.50\s+2\/2\s+5\.00\s+9\.00\s+0\.50\s+2\.5\s+3\.0$/m);
  // Every 8 MiB buffer of the CMA heap failed: no latency, no ratio; no JS row measured
  expect(t).toMatch(/^8\s+C\s+2\/2\s+12\.0\s+14\.0\s+0\.50\s+0\/2(\s+-){5}$/m);
  expect(t).not.toMatch(/^8\s+JS/m);
  expect(formatReport({ ...report, heaps: [], heapsSkipped: 'no dma-buf heap reserved in /dev/dma_heap' })).toContain('dma-buf heaps: not measured (no dma-buf heap reserved');
});

it('draws one CDF panel per size, a line per allocator with data, and the floors dashed', () => {
  const svg = renderCdfSvg(report);
  expect(svg).toMatch(/^<svg /);
  expect(svg.match(/<g transform/g)).toHaveLength(2);
  // Under pressure: 64-page CMA had no success, no guaranteed row; one floor (1-page GCMA), dashed
  expect(svg.match(/<polyline /g)).toHaveLength(5);
  expect(svg.match(/<polyline [^>]*stroke-dasharray/g)).toHaveLength(1);
  expect(svg).toContain('empty area (floor)');
  expect(svg).not.toContain('NaN');
});

describe('the order allocators are measured in', () => {
  const allocators = ['gcma', 'cma+gcma', 'cma'];

  it('is a new permutation each repetition, the same again from the same seed', () => {
    const orders = (seed: number): string[] => {
      const random = randomSource(seed);
      return Array.from({ length: 60 }, () => shuffled(allocators, random).join(','));
    };
    const a = orders(7);
    for (const o of a) expect(o.split(',').sort()).toEqual([...allocators].sort());
    // Each allocator comes first, and all six orders come up
    expect(new Set(a.map((o) => o.split(',')[0]))).toEqual(new Set(allocators));
    expect(new Set(a).size).toBe(6);
    expect(orders(7)).toEqual(a);
    expect(orders(8)).not.toEqual(a);
  });
});
