/**
 * Runs inside the guest, booted with a plain CMA area (cma=64M) and a
 * guaranteed one (gcma=guaranteed:32M) side by side (test/run.ts). The
 * caller's code path is the same for both, cma_alloc() or
 * dma_alloc_coherent() on a device using the area; only the backing
 * differs: the plain area migrates the movable pages the page allocator
 * put there, the guaranteed one drops the cleancache copies it holds
 * (its pool's `recalled`) and migrates nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Device, type Allocation, type Area } from '../../lib/device';
import { OutOfMemoryError } from '../../lib/errors';
import { formatPfn } from '../../lib/pfn-range';
import { mountScratch, unmount } from '../../lib/scratch';
import { parseTraceEvents, TRACEFS, type TraceEvent } from '../../lib/tracing';
import { cmaAreaStats, type CmaAreaStats } from '../../lib/stats';
import { cmaFreeBytes, holdAnonMemory, insmod, memAvailableBytes, readCounters, rmmod, TEST_MODULE, vmstat } from './support/guest';

jest.setTimeout(10 * 60_000);

const disk = process.env['GCMA_SCRATCH_DISK'];
const mnt = '/mnt/cma-areas';
const FILE_MIB = 192;
/**
 * Anonymous memory leaves this much of MemAvailable: once fewer free pages
 * are left outside the plain area than in it, the page allocator serves
 * movable allocations from the area (measured: 400 MiB of 528 put 32 MiB
 * there). Anonymous pages cannot be reclaimed (no swap): cma_alloc() has
 * to migrate them, where it drops clean page cache instead.
 */
const LEFT_MIB = 128;
/** Sizes in pages, and each area whole (what carve-outs leave of it). */
const SIZES = [1, 2, 3, 16, 255, 256, 1024, 4096];
/** dma-direct aligns a CMA range to its size, up to 2^CONFIG_CMA_ALIGNMENT pages. */
const CMA_ALIGN_PAGES = 256;
const PROACTIVENESS = '/proc/sys/vm/compaction_proactiveness';
/** tracefs, mounted by the guest's init (kernel/config/base.config has trace events). */
const TRACING = TRACEFS;

let dev: Device;
let plain: Area;
let guaranteed: Area;
let proactiveness = '';
let mounted = false;

beforeAll(() => {
  if (!disk) throw new Error('GCMA_SCRATCH_DISK is not set: the test command attaches a scratch disk');
  insmod(TEST_MODULE);
  dev = Device.open();
  plain = dev.cmaArea();
  const found = dev.cmaAreas().find((a) => a.backing === 'cma+gcma');
  if (!found) throw new Error('the guest has no guaranteed CMA area: test/run.ts boots it with gcma=guaranteed:32M');
  guaranteed = found;
  // Background compaction would migrate pages of its own while a
  // guaranteed allocation is measured not to.
  proactiveness = readFileSync(PROACTIVENESS, 'utf8').trim();
  writeFileSync(PROACTIVENESS, '0');
  mountScratch(disk, mnt);
  mounted = true;
  // Only the page cache and cleancache see it: zeroes are quickest to make.
  execFileSync('dd', ['if=/dev/zero', `of=${mnt}/data`, 'bs=1M', `count=${FILE_MIB}`, 'status=none']);
  execFileSync('sync');
});

/**
 * The largest aligned run of @area that no GCMA area was carved out of
 * (GCMA_TEST_REGISTER_FROM_CMA, by other suites: carve-outs are permanent).
 */
function largestRun(area: Area): number {
  const align = (pfn: number): number => Math.ceil(pfn / CMA_ALIGN_PAGES) * CMA_ALIGN_PAGES;
  const carved = dev
    .areas()
    .filter((g) => g.backing === 'gcma' && area.range.contains(g.range))
    .sort((a, b) => a.range.start - b.range.start);
  let best = 0;
  let at = align(area.range.start);
  for (const g of carved) {
    best = Math.max(best, g.range.start - at);
    at = Math.max(at, align(g.range.start + g.range.count));
  }
  return Math.max(best, area.range.start + area.range.count - at);
}

afterAll(() => {
  if (proactiveness) writeFileSync(PROACTIVENESS, proactiveness);
  dev?.close();
  try {
    if (mounted) unmount(mnt);
  } finally {
    rmmod('gcma_test');
  }
});

describe.each([
  ['plain', () => plain],
  ['guaranteed', () => guaranteed],
])('the %s CMA area', (_kind, get) => {
  it.each([false, true])('allocates every size and the whole area, dma_alloc_coherent(): %s', (dma) => {
    const area = get();
    const backing = area.backing === 'cma+gcma' ? dev.area(area.name) : undefined;
    const gcmaBefore = backing?.stats().allocated;
    const whole = largestRun(area);
    // Nothing carves a guaranteed area: it is GCMA's already.
    if (backing) expect(whole).toBe(area.pages);
    for (const pages of [...SIZES, whole]) {
      const a = area.alloc(pages, { dma });
      try {
        expect({ pages, inside: area.range.contains(a.range) }).toEqual({ pages, inside: true });
        expect(area.stats()).toMatchObject({ allocated: pages, owned: pages });
        // A guaranteed area's pages come out of GCMA, counted there too.
        if (backing) expect(backing.stats().allocated).toBe(gcmaBefore! + pages);
      } finally {
        a.free();
      }
    }
    expect(area.stats()).toMatchObject({ allocated: 0, owned: 0, failures: 0 });
    if (backing) expect(backing.stats().allocated).toBe(gcmaBefore);
  });
});

/** The events of one trace system in the main trace buffer, oldest first. */
function traceEvents(system: 'cma' | 'gcma'): TraceEvent[] {
  return parseTraceEvents(readFileSync(`${TRACING}/trace`, 'utf8'), system);
}

describe('the cma: and gcma: tracepoints and sysfs counters', () => {
  beforeAll(() => {
    for (const system of ['cma', 'gcma']) {
      if (!existsSync(`${TRACING}/events/${system}`)) throw new Error(`no ${TRACING}/events/${system}: the kernel is built with trace events (base.config)`);
      writeFileSync(`${TRACING}/events/${system}/enable`, '1');
    }
  });
  afterAll(() => {
    for (const system of ['cma', 'gcma']) writeFileSync(`${TRACING}/events/${system}/enable`, '0');
  });

  function counters(area: Area): CmaAreaStats {
    const s = cmaAreaStats().find((c) => c.name === area.name);
    if (!s) throw new Error(`no /sys/kernel/mm/cma/${area.name}`);
    return s;
  }

  // The plain area is upstream's own path: the control for the guaranteed one.
  it.each([
    ['plain', () => plain],
    ['guaranteed', () => guaranteed],
  ])('fire for the %s area, for an allocation and its release', (_kind, get) => {
    const area = get();
    const before = counters(area);
    writeFileSync(`${TRACING}/trace`, '');
    const a = area.alloc(16);
    const pfn = formatPfn(a.range.start);
    a.free();
    const ours = traceEvents('cma').filter((e) => e['name'] === area.name);
    expect(ours).toEqual([
      expect.objectContaining({ event: 'cma_alloc_start', count: '16', align: '0' }),
      expect.objectContaining({ event: 'cma_alloc_finish', pfn, count: '16', align: '0', errorno: '0' }),
      expect.objectContaining({ event: 'cma_release', pfn, count: '16' }),
    ]);
    const after = counters(area);
    expect(after.allocPagesSuccess - before.allocPagesSuccess).toBe(16);
    expect(after.releasePagesSuccess - before.releasePagesSuccess).toBe(16);
    expect(after.allocPagesFail).toBe(before.allocPagesFail);
  });

  it('gcma: fire for a guaranteed allocation and its release, with the copies recalled and the time taken', () => {
    writeFileSync(`${TRACING}/trace`, '');
    const a = guaranteed.alloc(16);
    const pfn = formatPfn(a.range.start);
    a.free();
    const ours = traceEvents('gcma').filter((e) => e['name'] === guaranteed.name);
    expect(ours).toEqual([
      expect.objectContaining({ event: 'gcma_alloc_start', pfn, count: '16' }),
      expect.objectContaining({ event: 'gcma_alloc_finish', pfn, count: '16', errorno: '0' }),
      expect.objectContaining({ event: 'gcma_free', pfn, count: '16', errorno: '0' }),
    ]);
    expect(Number(ours[1]!['recalled'])).toBeLessThanOrEqual(16);
    expect(Number(ours[1]!['ns'])).toBeGreaterThan(0);
    expect(Number(ours[2]!['ns'])).toBeGreaterThan(0);
  });

  it('fire for a guaranteed area that has no pages left, with the error', () => {
    const before = counters(guaranteed);
    writeFileSync(`${TRACING}/trace`, '');
    const whole = guaranteed.alloc(guaranteed.pages);
    try {
      expect(() => guaranteed.alloc(1)).toThrow(OutOfMemoryError);
    } finally {
      whole.free();
    }
    const ours = traceEvents('cma').filter((e) => e['name'] === guaranteed.name);
    expect(ours.map((e) => [e.event, e['count'], e['errorno']])).toEqual([
      ['cma_alloc_start', String(guaranteed.pages), undefined],
      ['cma_alloc_finish', String(guaranteed.pages), '0'],
      ['cma_alloc_start', '1', undefined],
      ['cma_alloc_finish', '1', '-12'],
      ['cma_release', String(guaranteed.pages), undefined],
    ]);
    const after = counters(guaranteed);
    expect(after.allocPagesFail - before.allocPagesFail).toBe(1);
    expect(after.allocPagesSuccess - before.allocPagesSuccess).toBe(guaranteed.pages);
    expect(after.releasePagesSuccess - before.releasePagesSuccess).toBe(guaranteed.pages);
  });
});

it('under pressure, the plain area migrates; the guaranteed one recalls cached copies and migrates nothing', async () => {
  const cmaFree = cmaFreeBytes();
  const holders = [await holdAnonMemory(memAvailableBytes() - LEFT_MIB * 2 ** 20)];
  let plainMigrated: number;
  try {
    const spilled = cmaFree - cmaFreeBytes();
    console.log(`anonymous memory in the plain area: ${(spilled / 2 ** 20).toFixed(1)} MiB`);
    expect(spilled).toBeGreaterThan(4 * 2 ** 20);
    // The file outgrows the page cache: evicted pages become cleancache copies.
    execFileSync('cat', [`${mnt}/data`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const m0 = vmstat('pgmigrate_success');
    // All the area gives in 1024-page ranges (carve-outs of other suites
    // make holes in it).
    const held: Allocation[] = [];
    try {
      for (;;) held.push(plain.alloc(1024));
    } catch (err) {
      if (!(err instanceof OutOfMemoryError)) throw err;
    } finally {
      for (const a of held) a.free();
    }
    plainMigrated = vmstat('pgmigrate_success') - m0;
    expect(held.length * 1024).toBeGreaterThanOrEqual(plain.pages / 2);
  } finally {
    for (const h of holders) {
      const gone = new Promise((resolve) => h.once('exit', resolve));
      h.kill('SIGKILL');
      await gone;
    }
  }

  const pool = `/sys/kernel/mm/cleancache/${guaranteed.name}`;
  writeFileSync(`${TRACING}/events/gcma/gcma_alloc_finish/enable`, '1');
  writeFileSync(`${TRACING}/trace`, '');
  const before = readCounters(pool);
  const m1 = vmstat('pgmigrate_success');
  const whole = guaranteed.alloc(guaranteed.pages);
  const guaranteedMigrated = vmstat('pgmigrate_success') - m1;
  const after = readCounters(pool);
  writeFileSync(`${TRACING}/events/gcma/gcma_alloc_finish/enable`, '0');
  whole.free();
  // The tracepoint tells the copies an allocation recalled, as the pool's counter does
  const finish = traceEvents('gcma').filter((e) => e['name'] === guaranteed.name);
  expect(finish.map((e) => [e.event, Number(e['count']), Number(e['recalled'])])).toEqual([
    ['gcma_alloc_finish', guaranteed.pages, after['recalled']! - before['recalled']!],
  ]);
  console.log(
    `plain ${plain.pages} pages: ${plainMigrated} pages migrated; guaranteed ${guaranteed.pages} pages: ` +
      `${before['cached']} copies held, ${after['recalled']! - before['recalled']!} recalled, ${guaranteedMigrated} pages migrated`,
  );
  expect(plainMigrated).toBeGreaterThan(0);
  expect(before['cached']).toBeGreaterThan(0);
  expect(after['recalled']! - before['recalled']!).toBeGreaterThanOrEqual(before['cached']!);
  expect(after['cached']).toBe(0);
  expect(guaranteedMigrated).toBe(0);
});
