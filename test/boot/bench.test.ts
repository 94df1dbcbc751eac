/**
 * The main job's benchmark in quick mode, on the test kernel, in a boot of
 * its own (it carves an area out of the CMA reservation and fills memory),
 * run as a vendor runs it on their kernel: `gcma bench --kernel BZIMAGE
 * --kdir DIR --json`, the test kernel given as one built elsewhere (the
 * CLI checks it and builds gcma_test.ko against the KDIR). The report has the structure the table and the picture are made from,
 * and every number in it is a measurement: counts match the repetitions,
 * no NaN, the GCMA success rate is there. No timing is asserted.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchRun } from '../../lib/bench/host';
import { QUICK_OPTIONS } from '../../lib/bench/options';
import type { BenchReport } from '../../lib/bench/report';
import { projectRoot } from '../../lib/paths';
import { testKernel } from '../support/test-kernel';

jest.setTimeout(900_000);

/**
 * Quick mode with fewer sizes, less data, memory, reading time, repetitions,
 * rounds and heap buffers:
 * the debug kernel writes and reads files several times slower than the
 * default one (about 20 MiB/s), and the checks below are about what the
 * report holds, not how much data made it or how many samples.
 */
const OPTIONS = { ...QUICK_OPTIONS, sizes: [1, 64], dataMiB: 64, memoryMiB: 384, durationS: 1, reps: 2, rounds: 2, heapSizesMiB: [1] };
const FLAGS = ['--quick', '--sizes', '1,64', '--data', '64', '--memory', '384', '--duration', '1', '--reps', '2', '--rounds', '2', '--heap-sizes', '1'];
let run: Omit<BenchRun, 'exitCode'>;

beforeAll(async () => {
  const kernel = await testKernel();
  const root = projectRoot();
  const resultsDir = join(root, 'results', 'test', 'boot', 'bench');
  const cli = join(root, 'dist', 'lib', 'cli.js');
  const r = await promisify(execFile)(process.execPath, [cli, 'bench', ...FLAGS, '--kernel', kernel.bzImage, '--kdir', kernel.buildDir, '--results', resultsDir, '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  // The module the CLI built for a kernel given to it
  expect(r.stderr).toMatch(new RegExp(`\\[module\\] module/external/[0-9a-f]+/gcma_test/.*gcma_test\\.ko.* for ${kernel.release.replace(/\./g, '\\.')}`));
  run = { report: JSON.parse(r.stdout) as BenchReport, resultsDir };
});

function numbers(v: unknown, path = '$'): Array<[string, number]> {
  if (typeof v === 'number') return [[path, v]];
  if (Array.isArray(v)) return v.flatMap((x, i) => numbers(x, `${path}[${i}]`));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => numbers(x, `${path}.${k}`));
  return [];
}

it('measures every size, allocator and phase the options ask for', () => {
  const { report: r } = run;
  const o = OPTIONS;
  expect(r.options).toEqual(o);
  const keys = r.results.map((x) => `${x.phase}/${x.allocator}/${x.pages}/${x.round ?? '-'}`).sort();
  const rounds = Array.from({ length: o.rounds }, (_, i) => i + 1);
  const want = o.sizes
    .flatMap((p) => [
      `floor/gcma/${p}/-`,
      `floor/cma+gcma/${p}/-`,
      ...rounds.flatMap((n) => ['pressure', 'pressure-floor'].flatMap((phase) => ['gcma', 'cma+gcma', 'cma'].map((a) => `${phase}/${a}/${p}/${n}`))),
    ])
    .sort();
  expect(keys).toEqual(want);
  for (const x of r.results) {
    const failures = Object.values(x.failures).reduce((a, b) => a + b, 0);
    expect({ key: `${x.phase}/${x.allocator}/${x.pages}`, attempts: x.attempts }).toEqual({
      key: `${x.phase}/${x.allocator}/${x.pages}`,
      attempts: x.phase === 'floor' ? o.floorReps : o.reps,
    });
    // The floor under pressure mostly gets the range just freed; how often is counted
    if (x.phase === 'pressure-floor') expect(x.sameRange! >= 0 && x.sameRange! <= x.successes).toBe(true);
    else expect(x.sameRange).toBeUndefined();
    expect(x.successes + failures).toBe(x.attempts);
    expect([x.kernelNs.length, x.jsNs.length, x.freeKernelNs.length]).toEqual([x.successes, x.successes, x.successes]);
    expect(x.kernel?.n ?? 0).toBe(x.successes);
    if (x.allocator !== 'cma') {
      // The whole area's copies before each attempt; those in the range of
      // each that reached GCMA (a guaranteed CMA area's bitmap may refuse first)
      expect(x.areaCachedBefore).toHaveLength(x.attempts);
      expect(x.cachedBefore.length).toBeGreaterThanOrEqual(x.successes);
      expect(x.cachedBefore.length).toBeLessThanOrEqual(x.attempts);
      for (const c of x.cachedBefore) expect(c >= 0 && c <= x.pages).toBe(true);
    }
    for (const ns of x.kernelNs) expect(ns).toBeGreaterThan(0);
  }
});

it('records how it ran: the accelerator, the commit, the order seed, and the state the pressure phase wanted', () => {
  const { report: r } = run;
  expect(['tcg', 'kvm']).toContain(r.accel);
  expect(r.commit).toMatch(/^[0-9a-f]{12}(-dirty)?$/);
  expect(Number.isInteger(r.seed)).toBe(true);
  // The test kernel has the gcma: trace events
  expect(r.rangeCopiesCounted).toBe(true);
  const areaPages = (OPTIONS.areaMiB * 1024 * 1024) / 4096;
  expect(r.roundPreconditions).toHaveLength(OPTIONS.rounds);
  for (const p of r.roundPreconditions ?? []) {
    expect(p).toMatchObject({ wantedCached: areaPages / 2, cmaAreaKiB: OPTIONS.areaMiB * 1024 });
    expect(typeof p.reached).toBe('boolean');
  }
  expect(r.preconditions).toEqual(r.roundPreconditions?.[0]);
  const table = readFileSync(join(run.resultsDir, 'table.txt'), 'utf8');
  expect(table).toContain(`(${r.accel!.toUpperCase()}, project ${r.commit}, order seed ${r.seed})`);
  expect(table).toMatch(r.preconditions!.reached ? /round 1: .*\(wanted <= half\): reached after/ : /round 1: .*\(wanted <= half\): NOT REACHED after/);
  expect(table).toMatch(/^GCMA p50\/fresh p50\s+1\s/m);
});

it('times the device\'s ioctls from C, from JavaScript and asynchronously, in the same run', () => {
  const { report: r } = run;
  expect(r.roundTripsSkipped).toBeUndefined();
  const trips = r.roundTrips ?? [];
  expect(trips.map((t) => `${t.caller}/${t.op}`).sort()).toEqual(['c/alloc', 'c/info', 'js-async/alloc', 'js-async/info', 'js/alloc', 'js/info']);
  for (const t of trips) {
    // Ten per floor repetition, each a measurement
    expect({ trip: `${t.caller}/${t.op}`, n: t.ns.length }).toEqual({ trip: `${t.caller}/${t.op}`, n: 10 * OPTIONS.floorReps });
    for (const ns of t.ns) expect(ns).toBeGreaterThan(0);
  }
  const table = readFileSync(join(run.resultsDir, 'table.txt'), 'utf8');
  expect(table).toMatch(/^AREA_INFO(\s+\d+(\.\d)?){6}\s+\d+\.\d\s+\d+\.\d$/m);
  expect(table).toMatch(/^ALLOC \(1 page\)(\s+\d+(\.\d)?){6}\s+\d+\.\d\s+\d+\.\d$/m);
});

it('has no NaN or infinite number anywhere', () => {
  const bad = numbers(run.report).filter(([, n]) => !Number.isFinite(n));
  expect(bad).toEqual([]);
});

it('reports the GCMA success rate, the throughputs and cleancache', () => {
  const { report: r } = run;
  const g = r.results.filter((x) => x.allocator === 'gcma' && x.phase === 'pressure');
  expect(g.reduce((a, x) => a + x.attempts, 0)).toBe(OPTIONS.reps * OPTIONS.sizes.length * OPTIONS.rounds);
  // Each workload with each use of the reservation, each run
  const runs = r.throughput.map((t) => `${t.workload}/${t.config}/${t.run}`).sort();
  const want = ['stream', 'working-set'].flatMap((w) => ['none', 'cma', 'gcma', 'gcma-all'].flatMap((c) => Array.from({ length: OPTIONS.throughputRuns }, (_, i) => `${w}/${c}/${i + 1}`)));
  expect(runs).toEqual(want.sort());
  for (const t of r.throughput) expect(t.bytes).toBeGreaterThan(0);
  expect(r.pressureStoresAll).toBe(true);
  expect(r.workingSet!.mib).toBeGreaterThan(0);
  expect(r.workingSet!.mib).toBeLessThanOrEqual(OPTIONS.dataMiB);
  expect(Object.keys(r.cleancache).sort()).toEqual(['cached', 'invalidated', 'missed', 'recalled', 'reclaimed', 'restored', 'skipped', 'stored']);
  expect(r.areas.gcma.pages).toBe((OPTIONS.areaMiB * 1024 * 1024) / 4096);
  expect(r.areas['cma+gcma']?.pages).toBe((OPTIONS.areaMiB * 1024 * 1024) / 4096);
});

it('measures camera-sized buffers from both CMA heaps, from C and from JavaScript', () => {
  const { report: r } = run;
  expect(r.heapsSkipped).toBeUndefined();
  const heaps = r.heaps ?? [];
  const keys = heaps.map((x) => `${x.bytes / 2 ** 20}/${x.from}/${x.backing}`).sort();
  const want = OPTIONS.heapSizesMiB.flatMap((mib) => ['c', 'js'].flatMap((from) => [`${mib}/${from}/cma`, `${mib}/${from}/cma+gcma`])).sort();
  expect(keys).toEqual(want);
  for (const x of heaps) {
    const failures = Object.values(x.failures).reduce((a, b) => a + b, 0);
    expect({ key: `${x.bytes}/${x.from}/${x.heap}`, attempts: x.attempts, accounted: x.successes + failures }).toEqual({
      key: `${x.bytes}/${x.from}/${x.heap}`,
      attempts: OPTIONS.heapRounds,
      accounted: OPTIONS.heapRounds,
    });
    expect([x.allocNs.length, x.freeNs.length, x.alloc?.n ?? 0]).toEqual([x.successes, x.successes, x.successes]);
    for (const ns of x.allocNs) expect(ns).toBeGreaterThan(0);
    // The guaranteed area is free and no one else allocates from it: every buffer comes
    if (x.backing === 'cma+gcma') expect({ heap: x.heap, failures: x.failures }).toEqual({ heap: 'bench-guaranteed', failures: {} });
  }
  const table = readFileSync(join(run.resultsDir, 'table.txt'), 'utf8');
  expect(table).toContain('dma-buf heap allocations under pressure');
  expect(table).toMatch(/^MiB\s+from\s+cma\+gcma ok\s+p50 ms/m);
});

it('writes the table and the CDF picture', () => {
  const table = readFileSync(join(run.resultsDir, 'table.txt'), 'utf8');
  expect(table).toMatch(/^pages\s+alloc\s+ok\s+min us\s+p50\s+p90\s+p99\s+max\s+mean\s+js p50\s+free p50\s+copies\s+off-CPU\/R$/m);
  expect(table).toContain('RFC CMA/GCMA');
  expect(table).toContain('TCG');
  const svg = readFileSync(join(run.resultsDir, 'cdf.svg'), 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  expect((svg.match(/<polyline /g) ?? []).length).toBeGreaterThanOrEqual(OPTIONS.sizes.length);
  expect(existsSync(join(run.resultsDir, 'bench.json'))).toBe(true);
});
