/**
 * Runs inside the guest, booted with a plain CMA area (cma=64M), a
 * guaranteed one (gcma=guaranteed:32M) and the region of the reference
 * vendor heap (reserve_mem=32M:2M:vendor; the heap module is loaded before
 * jest): dma-buf heaps, a CMA heap for each area, the system heap and the
 * vendor heap (kernel/module/gcma_vendor_heap.c, Android's GCMA interface).
 * Every heap through the C program test/uapi/dmabuf_heap_test.c (one jest
 * test per TAP case: the kernel selftest's cases), then through the
 * TypeScript API and the CLI.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DmaHeap } from '../../lib/dma-heap';
import { DeviceMissingError, InvalidArgumentError, OutOfMemoryError } from '../../lib/errors';
import { projectRoot } from '../../lib/paths';
import { cmaAreaStats } from '../../lib/stats';
import { heapTestProgram, listTap, runTap, type TapRun } from '../support/tap';
import { caught } from '../support/throws';
import { readCounters } from './support/guest';
import { huntMarker, LARGEST_BUFFER } from './support/heap-marker';

jest.setTimeout(5 * 60_000);

const root = projectRoot();
const program = heapTestProgram(root);
const names = listTap(program, []);
const HEAPS = ['guaranteed', 'reserved', 'system', 'vendor'];
/** The heaps on a GCMA area: the guaranteed CMA area's, and the vendor heap on its own. */
const GCMA_HEAPS = ['guaranteed', 'vendor'];
const MiB = 2 ** 20;
let run: TapRun;

beforeAll(() => {
  run = runTap(program, [], 240_000);
}, 250_000);

it('has a CMA heap for each CMA area, the system heap and the vendor heap', () => {
  expect(DmaHeap.list()).toEqual(HEAPS);
  const cli = JSON.parse(execFileSync('node', [join(root, 'dist', 'lib', 'cli.js'), 'heap', 'list', '--json'], { encoding: 'utf8' }));
  expect(cli).toEqual([
    { name: 'guaranteed', path: '/dev/dma_heap/guaranteed', kind: 'cma+gcma' },
    { name: 'reserved', path: '/dev/dma_heap/reserved', kind: 'cma' },
    { name: 'system', path: '/dev/dma_heap/system', kind: 'other' },
    { name: 'vendor', path: '/dev/dma_heap/vendor', kind: 'gcma' },
  ]);
});

describe('the C program (the kernel selftest cases)', () => {
  it('ran every case, for every heap', () => {
    expect(run.bailOut).toBeNull();
    expect(run.planned).toBe(names.length);
    expect(run.cases.map((c) => c.name)).toEqual(names);
    expect(names.filter((n) => n.startsWith('guaranteed: ')).length).toBeGreaterThan(0);
    expect(run.exitCode).toBe(run.cases.every((c) => c.ok) ? 0 : 1);
  });

  it.each(names)('%s', (name) => {
    const c = run.cases.find((x) => x.name === name);
    expect({ name, ok: c?.ok, diagnostics: c?.diagnostics }).toEqual({ name, ok: true, diagnostics: [] });
  });
});

/** Pages a CMA area has handed out and not taken back, by its sysfs counters. */
function cmaHeld(area: string): number {
  const s = cmaAreaStats().find((a) => a.name === area);
  if (!s) throw new Error(`no CMA area ${area}`);
  return s.allocPagesSuccess - s.releasePagesSuccess;
}

describe('the TypeScript API', () => {
  it.each(HEAPS)('allocates from %s, maps, syncs, writes and reads back', async (name) => {
    const heap = DmaHeap.open(name);
    for (const bytes of [4096, 3 * MiB + 4096]) {
      using buf = bytes > MiB ? await heap.allocAsync(bytes) : heap.alloc(bytes);
      const view = buf.map();
      expect(view.length).toBe(bytes);
      buf.sync({ write: true });
      for (let i = 0; i < bytes; i += 4096) view.writeUInt32LE(i, i);
      buf.sync({ write: true, end: true });
      buf.unmap();
      const again = buf.map();
      buf.sync({ read: true });
      let bad = 0;
      for (let i = 0; i < bytes; i += 4096) if (again.readUInt32LE(i) !== i) bad++;
      buf.sync({ read: true, end: true });
      expect({ bytes, bad }).toEqual({ bytes, bad: 0 });
      buf.setName(`gcma-test-${name}`);
    }
  });

  it('takes a guaranteed heap\'s buffers from GCMA, and every page back on close', () => {
    const gcma = '/sys/kernel/mm/gcma/guaranteed';
    const before = { cma: cmaHeld('guaranteed'), gcma: readCounters(gcma)['allocated']! };
    const buf = DmaHeap.open('guaranteed').alloc(8 * MiB);
    try {
      expect(cmaHeld('guaranteed') - before.cma).toBe(2048);
      expect(readCounters(gcma)['allocated']! - before.gcma).toBe(2048);
    } finally {
      buf.close();
    }
    expect({ cma: cmaHeld('guaranteed'), gcma: readCounters(gcma)['allocated'] }).toEqual(before);
  });

  it('takes the vendor heap\'s buffers from its GCMA area, the reserve_mem region, and every page back on close', () => {
    const param = (name: string): number => Number(readFileSync(`/sys/module/gcma_vendor_heap/parameters/${name}`, 'utf8'));
    const area = readCounters('/sys/kernel/mm/gcma/vendor');
    // The region the module found by name, registered whole
    expect({ bytes: param('size'), pages: area['size'] }).toEqual({ bytes: 32 * MiB, pages: 8192 });
    expect(area['base_pfn']! * 4096).toBe(param('base'));
    const before = area['allocated']!;
    const bufs = [DmaHeap.open('vendor').alloc(8 * MiB), DmaHeap.open('vendor').alloc(4096)];
    try {
      expect(readCounters('/sys/kernel/mm/gcma/vendor')['allocated']! - before).toBe(2049);
    } finally {
      for (const b of bufs) b.close();
    }
    expect(readCounters('/sys/kernel/mm/gcma/vendor')['allocated']).toBe(before);
  });

  it('gets every page back when the process holding buffers is killed', async () => {
    const vendorHeld = (): number => readCounters('/sys/kernel/mm/gcma/vendor')['allocated']!;
    const held = (): Record<string, number> => ({ guaranteed: cmaHeld('guaranteed'), reserved: cmaHeld('reserved'), vendor: vendorHeld() });
    const before = held();
    const script = `
      const { DmaHeap } = require(${JSON.stringify(join(root, 'dist', 'lib', 'index.js'))});
      const held = ['guaranteed', 'reserved', 'vendor'].map((h) => DmaHeap.open(h).alloc(${4 * MiB}));
      held[0].map().fill(1);
      process.stdout.write('held');
      setInterval(() => held.length, 1 << 30);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the holder exited early: ${code}`)));
    });
    const during = held();
    expect(Object.fromEntries(Object.keys(before).map((k) => [k, during[k]! - before[k]!]))).toEqual({ guaranteed: 1024, reserved: 1024, vendor: 1024 });
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    expect(held()).toEqual(before);
  });

  it('types its errors, and never reaches a closed buffer or an unmapped view', () => {
    const heap = DmaHeap.open('guaranteed');
    const flags = caught(() => heap.alloc(4096, { heapFlags: 1 }));
    expect(flags).toBeInstanceOf(InvalidArgumentError);
    expect(flags).toMatchObject({ code: 'EINVAL', errno: -22, syscall: 'ioctl', command: 'DMA_HEAP_IOCTL_ALLOC' });
    // Twice the area: the CMA heap fails with ENOMEM, and so does the vendor heap's gen_pool
    for (const h of GCMA_HEAPS) {
      const full = caught(() => DmaHeap.open(h).alloc(64 * MiB));
      expect(full).toBeInstanceOf(OutOfMemoryError);
      expect(full).toMatchObject({ code: 'ENOMEM', errno: -12 });
    }
    const missing = caught(() => DmaHeap.open('no-such-heap'));
    expect(missing).toBeInstanceOf(DeviceMissingError);
    expect(missing).toMatchObject({ code: 'ENOENT', syscall: 'open', path: '/dev/dma_heap/no-such-heap' });
    const buf = heap.alloc(4096);
    const view = buf.map();
    view[0] = 1;
    buf.close();
    // Detached when unmapped: no access to memory that is gone
    expect(view.length).toBe(0);
    expect(view[0]).toBeUndefined();
    expect(caught(() => buf.map())).toMatchObject({ code: 'ERR_GCMA_DMA_BUF_CLOSED' });
    expect(buf.closed).toBe(true);
    buf.close();
  });

  it('`gcma heap alloc` checks a buffer from each heap is zeroed', () => {
    for (const name of HEAPS) {
      const r = JSON.parse(execFileSync('node', [join(root, 'dist', 'lib', 'cli.js'), 'heap', 'alloc', name, '2M', '--json'], { encoding: 'utf8' }));
      expect(r).toMatchObject({ heap: name, bytes: 2 * MiB, nonZeroBytes: 0 });
    }
  });
});

it('never hands out file data cleancache kept in a heap\'s GCMA area: 1000 buffers from each such heap, all zeroed', () => {
  const disk = process.env['GCMA_SCRATCH_DISK'];
  if (!disk) throw new Error('GCMA_SCRATCH_DISK is not set: the test command attaches a scratch disk');
  const hunts = huntMarker(disk, '/mnt/dma-heaps', GCMA_HEAPS);
  for (const r of hunts) {
    const pages = readCounters(`/sys/kernel/mm/gcma/${r.heap}`)['size']!;
    console.log(
      `${r.allocations} buffers from heap ${r.heap}: at least ${r.minCached} of ${pages} pages held copies at each refill, ${r.recalled} recalled; ` +
        `${r.leaks} showed the marker, ${r.notZeroed} not zeroed (refills ${r.refillMs} ms, allocations ${r.allocateMs} ms)`,
    );
    // The control: the area held copies of the file, and the allocations took them
    expect(r.minCached).toBeGreaterThan(pages / 2);
    expect(r.recalled).toBeGreaterThanOrEqual((r.refills * LARGEST_BUFFER) / 4096);
    expect({ heap: r.heap, leaks: r.leaks, notZeroed: r.notZeroed }).toEqual({ heap: r.heap, leaks: 0, notZeroed: 0 });
  }
  expect(hunts.map((r) => r.heap)).toEqual(GCMA_HEAPS);
});
