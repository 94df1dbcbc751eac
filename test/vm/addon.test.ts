/**
 * Runs inside the QEMU guest: the addon and the TypeScript API against the
 * real /dev/gcma_test. Every command sync and async, every error class the
 * kernel can be made to return from JavaScript, typed and with errno kept,
 * a worker thread, many concurrent Promise allocations, and closing with
 * commands in flight. (The C test covers what JS cannot express:
 * reserved fields, bad pointers, EPERM on a handed-over file, ENOSPC.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Device, type Area } from '../../lib/device';
import * as errors from '../../lib/errors';
import { native } from '../../lib/native';
import { projectRoot } from '../../lib/paths';
import { formatPfn, PfnRange } from '../../lib/pfn-range';
import { caught, rejected } from '../support/throws';
import { insmod, rmmod, TEST_MODULE } from './support/guest';

const AREA_PAGES = 1024;
let dev: Device;
let area: Area;

beforeAll(() => {
  insmod(TEST_MODULE);
  dev = Device.open();
  area = dev.register(`addon-${process.pid}`, AREA_PAGES);
});

afterAll(() => {
  dev.close();
  rmmod('gcma_test');
});

afterEach(() => {
  // Every test leaves the area as it found it.
  expect(area.stats()).toMatchObject({ allocated: 0, owned: 0 });
});

describe('device', () => {
  it('reports the kernel: ABI, page size, GCMA and the cma=64M area', async () => {
    expect(dev).toMatchObject({ abiVersion: 1, pageSize: 4096, maxAreas: 64, hasGcma: true, hasCma: true, hasCmaAreas: true, path: '/dev/gcma_test' });
    const cma = dev.cmaArea();
    expect(cma).toMatchObject({ target: 'cma', index: 0, name: 'reserved', pages: 16384, backing: 'cma', isDefault: true });
    await using d = await Device.openAsync();
    expect(d.pageSize).toBe(4096);
  });

  it('lists every CMA area with its backing: cma=64M plain, gcma=guaranteed:32M backed by GCMA', () => {
    const summary = (a: Area): unknown => ({ target: a.target, name: a.name, backing: a.backing, isDefault: a.isDefault, pages: a.pages });
    expect(dev.cmaAreas().map(summary)).toEqual([
      { target: 'cma', name: 'reserved', backing: 'cma', isDefault: true, pages: 16384 },
      { target: 'cma', name: 'guaranteed', backing: 'cma+gcma', isDefault: false, pages: 8192 },
    ]);
    // The same pages, seen as the GCMA area backing it; a run-time area backs nothing.
    const backing = dev.area('guaranteed');
    expect(summary(backing)).toEqual({ target: 'gcma', name: 'guaranteed', backing: 'cma+gcma', isDefault: false, pages: 8192 });
    expect(backing.range.equals(dev.cmaArea('guaranteed').range)).toBe(true);
    expect(area.backing).toBe('gcma');
    expect(dev.cmaArea(1).name).toBe('guaranteed');
    expect(caught(() => dev.cmaArea('nonesuch'))).toMatchObject({ name: 'NotFoundError', code: 'ENOENT' });
    expect(caught(() => dev.cmaArea(2))).toMatchObject({ name: 'NotFoundError', code: 'ENOENT', syscall: 'ioctl', command: 'GCMA_TEST_IOC_AREA_INFO' });
  });

  it('allocates from the guaranteed CMA area through cma_alloc() and dma_alloc_coherent(): GCMA hands the pages out', async () => {
    const cma = dev.cmaArea('guaranteed');
    const backing = dev.area('guaranteed');
    const before = backing.stats();
    using a = await cma.allocAsync(100);
    using d = cma.alloc(5, { dma: true });
    expect(cma.range.contains(a.range) && cma.range.contains(d.range)).toBe(true);
    expect(d.dma).toBe(true);
    // dma-direct aligns to the size rounded up to a power of two
    expect(d.range.start % 8).toBe(0);
    expect(backing.stats().allocated).toBe(before.allocated + 105);
    expect(cma.stats()).toMatchObject({ allocated: 105, owned: 105 });
    // Freed whole only
    expect(caught(() => cma.freeRange(d.range.split(1)[0]!))).toMatchObject({ name: 'InvalidArgumentError', code: 'EINVAL', syscall: 'ioctl' });
    d.free();
    await a.freeAsync();
    expect(backing.stats().allocated).toBe(before.allocated);
  });

  it('refuses the GCMA side of a guaranteed area (its CMA bitmap owns it) and DMA from a GCMA area', () => {
    const backing = dev.area('guaranteed');
    const lib = caught(() => backing.alloc(1));
    expect(lib).toBeInstanceOf(errors.NotSupportedError);
    expect((lib as errors.GcmaError).syscall).toBeUndefined();
    expect(caught(() => area.alloc(1, { dma: true }))).toBeInstanceOf(errors.NotSupportedError);
    // The kernel refuses what the library was not asked to check.
    const c = native().constants;
    const kernel = caught(() => dev.handle.alloc(c.TARGET_GCMA, backing.index, c.ALLOC_ANYWHERE, 0, 1));
    expect(errors.fromNative(kernel, 'allocate')).toMatchObject({ name: 'NotSupportedError', errno: -95, syscall: 'ioctl' });
    expect(backing.stats().allocated).toBe(0);
  });

  it('carves an area out of the CMA area', async () => {
    const cma = dev.cmaArea();
    const carved = await dev.registerAsync(`addon-cma-${process.pid}`, 64, { fromCma: true });
    expect(cma.range.contains(carved.range)).toBe(true);
    using a = carved.alloc(64);
    expect(a.range.equals(carved.range)).toBe(true);
    // The carved pages are owned as GCMA pages, though inside the CMA area.
    expect(carved.stats().owned).toBe(64);
    expect(dev.cmaArea().stats().owned).toBe(0);
  });

  it('refuses an area past max_area_pages (half of RAM) with ENOSPC, before taking memory', () => {
    const cap = Number(readFileSync('/sys/module/gcma_test/parameters/max_area_pages', 'utf8'));
    const held = dev.areas().reduce((pages, a) => pages + a.pages, 0);
    expect(cap).toBeGreaterThan(held);
    expect(caught(() => dev.register(`addon-cap-${process.pid}`, cap - held + 1))).toMatchObject({ code: 'ENOSPC', syscall: 'ioctl' });
    expect(caught(() => dev.register(`addon-cap-${process.pid}`, cap - held + 1))).toBeInstanceOf(errors.AreaLimitError);
    expect(dev.areas().reduce((pages, a) => pages + a.pages, 0)).toBe(held);
  });

  // The debug kernel profiles allocations: GCMA's must be charged to its
  // caller, the module's alloc_gcma() (alloc_hooks() around the
  // allocation), and uncharged when freed.
  it('charges GCMA allocations to their caller in /proc/allocinfo', () => {
    if (process.env['GCMA_KERNEL_FLAVOUR'] !== 'debug') {
      expect(existsSync('/proc/allocinfo')).toBe(false);
      return;
    }
    const charged = (): number =>
      readFileSync('/proc/allocinfo', 'utf8')
        .split('\n')
        .filter((line) => /\[gcma_test\] func:alloc_gcma\s*$/.test(line))
        .reduce((bytes, line) => bytes + Number(line.trim().split(/\s+/)[0]), 0);
    const before = charged();
    {
      using a = area.alloc(64);
      expect(a.range.count).toBe(64);
      expect(charged() - before).toBe(64 * 4096);
    }
    expect(charged()).toBe(before);
  });

  it('lists areas, finds them by name and index', () => {
    const all = dev.areas();
    expect(all.map((a) => a.name)).toContain(area.name);
    expect(dev.area(area.name)).toEqual(area);
    expect(dev.area(area.index).range.equals(area.range)).toBe(true);
    expect(area.range.count).toBe(AREA_PAGES);
    expect(caught(() => dev.area('no-such-area'))).toBeInstanceOf(errors.NotFoundError);
    expect(caught(() => dev.area(63))).toMatchObject({ code: 'ENOENT', syscall: 'ioctl', command: 'GCMA_TEST_IOC_AREA_INFO' });
  });

  it('closes idempotently; use after close is a DeviceClosedError without a system call', async () => {
    const d = Device.open();
    const dArea = d.area(area.index);
    const a = dArea.alloc(8);
    expect(area.stats().allocated).toBe(8);
    d.close();
    d.close();
    expect(d.closed).toBe(true);
    expect(area.stats().allocated).toBe(0); // the kernel freed what d owned
    expect(caught(() => a.free())).toMatchObject({ name: 'DeviceClosedError', code: 'ERR_GCMA_DEVICE_CLOSED', syscall: undefined });
    expect(await rejected(dArea.allocAsync(1))).toBeInstanceOf(errors.DeviceClosedError);
    expect(caught(() => d.areas())).toBeInstanceOf(errors.DeviceClosedError);
    a[Symbol.dispose](); // nothing to do: the close freed it
  });
});

describe.each(['sync', 'async'] as const)('%s commands', (mode) => {
  const alloc = (pages: number, opts = {}) => (mode === 'sync' ? Promise.resolve(area.alloc(pages, opts)) : area.allocAsync(pages, opts));

  it('allocates anywhere (first fit), at a PFN, and compound; frees with kernel times', async () => {
    const a = await alloc(16);
    expect(a.range.equals(PfnRange.of(area.range.start, 16))).toBe(true);
    expect(a.kernelNs).toBeGreaterThan(0);
    const b = await alloc(8, { at: area.range.start + 64 });
    expect(b.range.start).toBe(area.range.start + 64);
    const c = await alloc(32, { compound: true });
    expect(c.range.isAligned(5)).toBe(true);
    expect(area.range.contains(c.range)).toBe(true);
    const stats = mode === 'sync' ? area.stats() : await area.statsAsync();
    expect(stats).toMatchObject({ allocated: 56, owned: 56, free: AREA_PAGES - 56 });
    for (const x of [a, b, c]) {
      const r = mode === 'sync' ? x.free() : await x.freeAsync();
      expect(r.kernelNs).toBeGreaterThan(0);
      expect(r.range.equals(x.range)).toBe(true);
    }
  });

  it('frees itself with using / await using', async () => {
    {
      using a = await alloc(4);
      await using b = await alloc(4);
      expect(area.stats().allocated).toBe(8);
      expect(a.freed || b.freed).toBe(false);
    }
    expect(area.stats().allocated).toBe(0);
  });

  it('a second free is an AlreadyFreedError, not a kernel call', async () => {
    const a = await alloc(2);
    await (mode === 'sync' ? a.free() : a.freeAsync());
    const err = mode === 'sync' ? caught(() => a.free()) : await rejected(a.freeAsync());
    expect(err).toBeInstanceOf(errors.AlreadyFreedError);
    expect(err).toMatchObject({ syscall: undefined, errno: undefined });
  });

  it('typed kernel errors: EBUSY, EACCES, ENOENT, ENOMEM, EINVAL, EEXIST, ENOSPC', async () => {
    const a = await alloc(8, { at: area.range.start });
    const attempt = async (fn: () => unknown): Promise<unknown> => (mode === 'sync' ? caught(fn) : rejected(Promise.resolve().then(fn)));
    const busy = await attempt(() => (mode === 'sync' ? area.alloc(4, { at: area.range.start + 4 }) : area.allocAsync(4, { at: area.range.start + 4 })));
    expect(busy).toBeInstanceOf(errors.BusyError);
    expect(busy).toMatchObject({ code: 'EBUSY', errno: -16, syscall: 'ioctl', command: 'GCMA_TEST_IOC_ALLOC' });
    expect((busy as Error).message).toContain(`cannot allocate 4 pages at ${formatPfn(area.range.start + 4)} in GCMA area "${area.name}"`);

    using other = Device.open();
    const otherArea = other.area(area.index);
    const notOwned = await attempt(() => (mode === 'sync' ? otherArea.freeRange(a.range) : otherArea.freeRangeAsync(a.range)));
    expect(notOwned).toBeInstanceOf(errors.NotOwnedError);
    expect(notOwned).toMatchObject({ code: 'EACCES', errno: -13, command: 'GCMA_TEST_IOC_FREE' });

    const missing = PfnRange.of(area.range.start + 100, 1);
    const notFound = await attempt(() => (mode === 'sync' ? area.freeRange(missing) : area.freeRangeAsync(missing)));
    expect(notFound).toMatchObject({ name: 'NotFoundError', code: 'ENOENT', errno: -2 });

    const full = await attempt(() => (mode === 'sync' ? area.alloc(AREA_PAGES) : area.allocAsync(AREA_PAGES)));
    expect(full).toMatchObject({ name: 'OutOfMemoryError', code: 'ENOMEM', errno: -12 });

    // 2^11 pages: a power of two (the library's check) above MAX_PAGE_ORDER (the kernel's)
    const tooBig = await attempt(() => (mode === 'sync' ? area.alloc(2048, { compound: true }) : area.allocAsync(2048, { compound: true })));
    expect(tooBig).toMatchObject({ name: 'InvalidArgumentError', code: 'EINVAL', syscall: 'ioctl' });

    const exists = await attempt(() => (mode === 'sync' ? dev.register(area.name, 1) : dev.registerAsync(area.name, 1)));
    expect(exists).toMatchObject({ name: 'AreaExistsError', code: 'EEXIST', command: 'GCMA_TEST_IOC_REGISTER' });
    // Past the module's max_area_pages: refused before any memory is taken
    const tooLarge = await attempt(() => (mode === 'sync' ? dev.register(`huge-${mode}`, 2 ** 40) : dev.registerAsync(`huge-${mode}`, 2 ** 40)));
    expect(tooLarge).toMatchObject({ name: 'AreaLimitError', code: 'ENOSPC' });
    await (mode === 'sync' ? a.free() : a.freeAsync());
  });

  it('partial free of a compound range is the kernel\'s EINVAL', async () => {
    const c = await alloc(16, { compound: true });
    const half = c.range.split(8)[0];
    const err = mode === 'sync' ? caught(() => area.freeRange(half)) : await rejected(area.freeRangeAsync(half));
    expect(err).toMatchObject({ name: 'InvalidArgumentError', code: 'EINVAL', syscall: 'ioctl', command: 'GCMA_TEST_IOC_FREE' });
    await (mode === 'sync' ? c.free() : c.freeAsync());
  });

  it('CMA: allocates anywhere, frees; explicit placement refused', async () => {
    const cma = dev.cmaArea();
    const before = cma.stats();
    const a = mode === 'sync' ? cma.alloc(32) : await cma.allocAsync(32);
    expect(cma.range.contains(a.range)).toBe(true);
    expect(cma.stats().allocated).toBe(before.allocated + 32);
    await (mode === 'sync' ? a.free() : a.freeAsync());
    expect(cma.stats().allocated).toBe(before.allocated);
    expect(caught(() => cma.alloc(1, { at: cma.range.start }))).toBeInstanceOf(errors.NotSupportedError);
  });
});

describe('refused by the library before the kernel', () => {
  // Argument mistakes as Node's APIs throw them; refusals the kernel would
  // make too keep their errno-typed class
  const range = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };
  const value = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' };
  it.each([
    ['a count of 0', () => area.alloc(0), range],
    ['a fractional count', () => area.alloc(1.5), range],
    ['a count that is no number', () => area.alloc('2' as unknown as number), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }],
    ['a range outside the area', () => area.alloc(2, { at: area.range.last }), { name: 'OutOfAreaError', code: 'ERANGE' }],
    ['a compound count that is no power of two', () => area.alloc(12, { compound: true }), range],
    ['a misaligned compound range', () => area.alloc(16, { at: area.range.start + 1, compound: true }), range],
    ['a 32-byte name', () => dev.register('n'.repeat(32), 1), { name: 'NameTooLongError', code: 'ENAMETOOLONG' }],
    ['a name with /', () => dev.register('a/b', 1), value],
  ])('%s', (_what, fn, want) => {
    const before = area.stats();
    const err = caught(fn);
    expect(err).toMatchObject(want);
    expect(errors.isArgumentError(err)).toBe(want.code.startsWith('ERR_'));
    expect((err as errors.GcmaError).syscall).toBeUndefined();
    expect(area.stats()).toEqual(before);
  });

  it('the same refusals in the kernel, through the raw addon, keep their errno', () => {
    const c = native().constants;
    const raw = (fn: () => unknown) => caught(fn) as errors.GcmaError;
    expect(raw(() => dev.handle.alloc(c.TARGET_GCMA, area.index, 0, area.range.last, 2))).toMatchObject({ code: 'ERANGE', errno: -34, syscall: 'ioctl' });
    expect(raw(() => dev.handle.alloc(c.TARGET_CMA, 0, 0, 0, 1))).toMatchObject({ code: 'ENOTSUP', errno: -95 }); // errno 95: Node's name for EOPNOTSUPP
    expect(raw(() => dev.handle.register('n'.repeat(32), 1))).toMatchObject({ code: 'ENAMETOOLONG', errno: -36 });
    expect(raw(() => dev.handle.alloc(c.TARGET_GCMA, area.index, 0x80, 0, 1))).toMatchObject({ code: 'EINVAL' });
    expect(errors.fromNative(raw(() => dev.handle.alloc(c.TARGET_GCMA, area.index, 0, area.range.last, 2)), 'x')).toBeInstanceOf(errors.OutOfAreaError);
    // Built in the addon's realm: compare names, not constructors
    expect(caught(() => dev.handle.alloc(c.TARGET_GCMA, area.index, 0, -1, 1))).toMatchObject({
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: 'startPfn must be an integer from 0 to 9007199254740991',
    });
    expect(caught(() => dev.handle.free(c.TARGET_GCMA, '1' as unknown as number, 1))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'startPfn must be a number' });
    // Through the library, as they are
    expect(errors.fromNative(caught(() => dev.handle.register('a\0b', 1)), 'x')).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('the Into forms write the object forms\' numbers to a Float64Array, refuse any other, and keep errno', () => {
    const c = native().constants;
    const h = dev.handle;
    const out = new Float64Array(16);
    h.areaInfoInto(c.TARGET_GCMA, area.index, out);
    const info = h.areaInfo(c.TARGET_GCMA, area.index) as unknown as Record<string, number>;
    expect(c.AREA_INFO_FIELDS.map((f, i) => [f, out[i]])).toEqual(c.AREA_INFO_FIELDS.map((f) => [f, info[f]]));
    const at = (f: string): number => out[c.RANGE_FIELDS.indexOf(f)]!;
    h.allocInto(c.TARGET_GCMA, area.index, c.ALLOC_ANYWHERE, 0, 4, out);
    const start = at('startPfn');
    expect([at('target'), at('index'), at('count')]).toEqual([c.TARGET_GCMA, area.index, 4]);
    expect(area.range.contains(PfnRange.of(start, 4))).toBe(true);
    expect(at('kernelNs')).toBeGreaterThan(0);
    h.freeInto(c.TARGET_GCMA, start, 4, out);
    expect([at('startPfn'), at('count'), at('index')]).toEqual([start, 4, area.index]);
    for (const bad of [undefined, new Float64Array(c.AREA_INFO_FIELDS.length - 1), new Float32Array(16), Array(16).fill(0)]) {
      expect(caught(() => h.areaInfoInto(c.TARGET_GCMA, area.index, bad as Float64Array))).toMatchObject({ name: 'TypeError', message: `out must be a Float64Array of at least ${c.AREA_INFO_FIELDS.length} elements` });
    }
    // Freed already: the kernel's refusal, its errno kept, the array untouched
    out.fill(-1);
    expect(caught(() => h.freeInto(c.TARGET_GCMA, start, 4, out))).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'ioctl' });
    expect([...out]).toEqual(Array(16).fill(-1));
  });
});

describe('concurrency', () => {
  it('many concurrent Promise allocations get disjoint ranges; all free again', async () => {
    const allocs = await Promise.all(Array.from({ length: 64 }, () => area.allocAsync(8)));
    const ranges = allocs.map((a) => a.range).sort((x, y) => x.start - y.start);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i - 1]!.end).toBeLessThanOrEqual(ranges[i]!.start);
    expect(area.stats().allocated).toBe(512);
    await Promise.all(allocs.map((a) => a.freeAsync()));
  });

  it('close() with commands in flight: they finish, then the file closes', async () => {
    const d = Device.open(undefined, { maxInFlight: 4 });
    const a = d.area(area.index);
    const pending = [a.allocAsync(8), a.allocAsync(8)];
    d.close();
    const settled = await Promise.allSettled(pending);
    // Started before the close: they ran; the close then freed their ranges.
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(area.stats().allocated).toBe(0);
  });

  it('closes the file when opening fails on a bad option', () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    expect(caught(() => Device.open(undefined, { maxInFlight: 0 }))).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(fds()).toBe(before);
  });

  it('closes a Device collected while open, with a warning, which frees what it owned', () => {
    const script = `
      const { Device } = require(${JSON.stringify(join(projectRoot(), 'dist', 'lib', 'index.js'))});
      (function leak() { Device.open().area(${area.index}).alloc(8); })();
      const owned = () => { const d = Device.open(); try { return d.area(${area.index}).stats().allocated; } finally { d.close(); } };
      const held = owned();
      global.gc();
      setTimeout(() => console.log(JSON.stringify({ held, after: owned() })), 100);`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ held: 8, after: 0 });
    expect(r.stderr).toMatch(/\[GCMA_DEVICE_UNCLOSED\] Warning: a Device of \/dev\/gcma_test was closed on garbage collection/);
  });

  it('works from a worker thread, with its own instance of the addon', async () => {
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { Device } = require(workerData.lib);
      (async () => {
        const dev = await Device.openAsync();
        const area = dev.area(workerData.index);
        const a = await area.allocAsync(16);
        const owned = (await area.statsAsync()).owned;
        await a.freeAsync();
        dev.close();
        parentPort.postMessage({ owned, start: a.range.start });
      })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
    const w = new Worker(script, { eval: true, workerData: { lib: join(projectRoot(), 'dist', 'lib', 'index.js'), index: area.index } });
    const msg = await new Promise<{ owned?: number; start?: number; error?: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(msg).toEqual({ owned: 16, start: area.range.start });
  });
});

describe('privileges', () => {
  // The child loads the library as root and only then becomes nobody: the
  // checkout may be where nobody cannot read it (root's home is 0700).
  it('a non-root process cannot open the device: PermissionDeniedError', () => {
    const script = `const { Device } = require(${JSON.stringify(join(projectRoot(), 'dist', 'lib', 'index.js'))});
      const attempt = () => { try { Device.open().close(); return 'opened'; } catch (e) { return { name: e.name, code: e.code, syscall: e.syscall }; } };
      const asRoot = attempt();
      process.setgroups([]); process.setgid(65534); process.setuid(65534);
      console.log(JSON.stringify({ asRoot, uid: process.getuid(), asNobody: attempt() }));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      asRoot: 'opened',
      uid: 65534,
      asNobody: { name: 'PermissionDeniedError', code: 'EACCES', syscall: 'open' },
    });
  });
});
