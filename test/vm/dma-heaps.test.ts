/**
 * Runs inside the guest, booted with a plain CMA area (cma=64M) and a
 * guaranteed one (gcma=guaranteed:32M): dma-buf heaps, a CMA heap for each
 * area beside the system heap, through the TypeScript API and the CLI.
 * The selftest's C cases and the marker hunt run in the heap boots
 * (test/support/heap-boot.ts), with init_on_free=1 and =0 and the
 * reference vendor heap, which this boot cannot have.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { DmaHeap } from '../../lib/dma-heap';
import { DeviceMissingError, InvalidArgumentError, OutOfMemoryError } from '../../lib/errors';
import { projectRoot } from '../../lib/paths';
import { cmaAreaStats } from '../../lib/stats';
import { caught } from '../support/throws';
import { readCounters, writeReadBack } from './support/guest';

jest.setTimeout(5 * 60_000);

const root = projectRoot();
const HEAPS = ['guaranteed', 'reserved', 'system'];
const MiB = 2 ** 20;

it('has a CMA heap for each CMA area, and the system heap', () => {
  expect(DmaHeap.list()).toEqual(HEAPS);
  const cli = JSON.parse(execFileSync('node', [join(root, 'dist', 'lib', 'cli.js'), 'heap', 'list', '--json'], { encoding: 'utf8' }));
  expect(cli).toEqual([
    { name: 'guaranteed', path: '/dev/dma_heap/guaranteed', kind: 'cma+gcma' },
    { name: 'reserved', path: '/dev/dma_heap/reserved', kind: 'cma' },
    { name: 'system', path: '/dev/dma_heap/system', kind: 'other' },
  ]);
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
      const { mapped, bad } = writeReadBack(buf);
      expect(mapped).toBe(bytes);
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

  it('gets every page back when the process holding buffers is killed', async () => {
    const before = { guaranteed: cmaHeld('guaranteed'), reserved: cmaHeld('reserved') };
    const script = `
      const { DmaHeap } = require(${JSON.stringify(join(root, 'dist', 'lib', 'index.js'))});
      const held = [DmaHeap.open('guaranteed').alloc(${4 * MiB}), DmaHeap.open('reserved').alloc(${4 * MiB})];
      held[0].map().fill(1);
      process.stdout.write('held');
      setInterval(() => held.length, 1 << 30);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the holder exited early: ${code}`)));
    });
    expect({ guaranteed: cmaHeld('guaranteed') - before.guaranteed, reserved: cmaHeld('reserved') - before.reserved }).toEqual({ guaranteed: 1024, reserved: 1024 });
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    expect({ guaranteed: cmaHeld('guaranteed'), reserved: cmaHeld('reserved') }).toEqual(before);
  });

  it('types its errors, and never reaches a closed buffer or an unmapped view', () => {
    const heap = DmaHeap.open('guaranteed');
    const flags = caught(() => heap.alloc(4096, { heapFlags: 1 }));
    expect(flags).toBeInstanceOf(InvalidArgumentError);
    expect(flags).toMatchObject({ code: 'EINVAL', errno: -22, syscall: 'ioctl', command: 'DMA_HEAP_IOCTL_ALLOC' });
    // Twice the area: the CMA heap fails with ENOMEM
    const full = caught(() => heap.alloc(64 * MiB));
    expect(full).toBeInstanceOf(OutOfMemoryError);
    expect(full).toMatchObject({ code: 'ENOMEM', errno: -12 });
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
