/**
 * The heap boots (test/boot/heap-zeroing*.test.ts): dma-buf heaps on GCMA
 * in boots of their own, with init_on_free=1 and =0, and the reference
 * vendor heap (kernel/module/gcma_vendor_heap.c) on a reserve_mem= region,
 * which cannot share the VM suites' boot (its pool and its memory would
 * change what the suites there count on). In each: the selftest's C cases
 * (on every heap with init_on_free=0, on the two heaps on GCMA areas with
 * init_on_free=1), and a hundred buffers each from the two heaps on GCMA
 * areas (the guaranteed CMA area's, the vendor heap), taken while their
 * areas hold copies of a marked file, must come zeroed. With
 * init_on_free=0 the vendor heap's TypeScript checks run too
 * (test/vm/support/vendor-heap.ts); with init_on_free=1 it is first loaded
 * with bad parameters (refused, the reason in the log). A test file each.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { runInVm, sparseDisk } from '../../lib/vm/runner';
import { heapTestProgram, listTap, parseTap } from './tap';
import { STORE_ALL, testKernel, testModule, VENDOR_REGION } from './test-kernel';
import { LARGEST_BUFFER, type MarkerHunt } from '../vm/support/heap-marker';
import type { VendorHeapFacts } from '../vm/support/vendor-heap';

const root = projectRoot();
const MiB = 2 ** 20;
const VENDOR = VENDOR_REGION.name;

export interface HeapBoot {
  title: string;
  dir: string;
  cmdline: string[];
  /** The console's mem auto-init line */
  autoInit: string;
  /** Load the vendor heap without a region and with an unknown one first. */
  badParams: boolean;
  /** Run test/vm/support/vendor-heap.ts. */
  facts: boolean;
  /** The heaps the C cases run on. */
  cHeaps: readonly string[];
}

/** The GCMA areas of a heap boot: a plain default CMA area, a guaranteed one, the vendor heap's region. */
const AREAS = ['cma=64M', 'gcma=guaranteed:32M', VENDOR_REGION.cmdline, STORE_ALL];
/** The heaps on GCMA areas: the guaranteed CMA area's, and the vendor heap. */
const HUNTED = ['guaranteed', VENDOR];

export const HEAP_BOOTS: Record<'initOnFree' | 'noInitOnFree', HeapBoot> = {
  initOnFree: {
    title: 'with init_on_free=1',
    dir: 'heap-zeroing',
    // page_poison=0: the debug kernel's page poisoning would take precedence
    cmdline: ['page_poison=0', 'init_on_free=1', ...AREAS],
    autoInit: 'heap free:on',
    badParams: true,
    facts: false,
    // What init_on_free changes is whether a page comes back zeroed from
    // the page allocator: the system and plain CMA heaps are the page
    // allocator's, checked in the other boot (25 s less here)
    cHeaps: HUNTED,
  },
  noInitOnFree: {
    title: 'with init_on_free=0',
    dir: 'heap-zeroing-no-init-on-free',
    cmdline: AREAS,
    autoInit: 'heap free:off',
    badParams: false,
    facts: true,
    cHeaps: ['guaranteed', 'reserved', 'system', VENDOR],
  },
};
/** Larger than the boot's cleancache pools together (the two 32 MiB areas), MiB. */
const FILE_MIB = 72;

/** Boot, load the vendor heap, run the C cases, the hunt and the checks; assert on what the guest printed. */
export async function runHeapBoot(boot: HeapBoot): Promise<void> {
  const kernel = await testKernel();
  const resultsDir = join(root, 'results', 'test', 'boot', boot.dir);
  mkdirSync(resultsDir, { recursive: true });
  const program = heapTestProgram(root);
  const support = join(root, 'dist', 'test', 'vm', 'support');
  const ko = await testModule(kernel, 'gcma_vendor_heap');
  const script = [
    ...(boot.badParams ? [`insmod ${ko}; echo "insmod without region: $?"`, `insmod ${ko} region=no-such-region; echo "insmod region=no-such-region: $?"`] : []),
    `insmod ${ko} region=${VENDOR} || exit 1`,
    [program, ...boot.cHeaps].join(' '),
    `node ${join(support, 'heap-marker.js')} /dev/vda ${FILE_MIB} ${HUNTED.join(' ')} || exit 1`,
    ...(boot.facts ? [`node ${join(support, 'vendor-heap.js')} ${VENDOR} || exit 1`] : []),
  ];
  let out = '';
  const r = await runInVm({
    bzImage: kernel.bzImage,
    cwd: root,
    command: ['sh', '-c', script.join('\n')],
    memoryMiB: 512,
    cmdline: boot.cmdline,
    disks: [sparseDisk(join(resultsDir, 'scratch.img'), 512 * MiB)],
    resultsDir,
    output: (t) => (out += t),
  });
  expect(r.exitCode).toBe(0);
  const log = readFileSync(r.consoleLog, 'utf8');
  expect(log).toMatch(new RegExp(`mem auto-init: .*${boot.autoInit}`));
  if (boot.badParams) {
    // Refused, and why: the module has no region to take
    expect(out).toMatch(/^insmod without region: [1-9]/m);
    expect(out).toMatch(/^insmod region=no-such-region: [1-9]/m);
    expect(log).toContain('gcma_vendor_heap: region= names no reserve_mem= region');
    expect(log).toContain('gcma_vendor_heap: no reserve_mem= region no-such-region');
  }

  const tap = parseTap(out);
  expect({ planned: tap.planned, failed: tap.cases.filter((c) => !c.ok) }).toEqual({ planned: tap.cases.length, failed: [] });
  // The same cases as the program lists on the host, for each heap
  const perHeap = listTap(program, ['HEAP']).map((n) => n.replace(/^HEAP: /, ''));
  for (const heap of boot.cHeaps) {
    expect(tap.cases.map((c) => c.name).filter((n) => n.startsWith(`${heap}: `)).map((n) => n.slice(heap.length + 2))).toEqual(perHeap.filter((n) => !n.includes(' what is no heap ')));
  }

  const hunts = [...out.matchAll(/^heap-marker: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as MarkerHunt);
  expect(hunts.map((h) => h.heap)).toEqual(HUNTED);
  for (const hunt of hunts) {
    console.log(`${boot.title}: ${JSON.stringify(hunt)}`);
    // The control: each 8192-page area held copies, and the allocations took them
    expect(hunt.minCached).toBeGreaterThan(4096);
    expect(hunt.recalled).toBeGreaterThanOrEqual((hunt.refills * LARGEST_BUFFER) / 4096);
    expect({ heap: hunt.heap, leaks: hunt.leaks, notZeroed: hunt.notZeroed }).toEqual({ heap: hunt.heap, leaks: 0, notZeroed: 0 });
  }

  if (!boot.facts) return;
  const line = /^vendor-heap: (.*)$/m.exec(out)?.[1];
  expect(line).toBeDefined();
  const f = JSON.parse(line!) as VendorHeapFacts;
  // The region the module found by name, registered whole as its GCMA area
  expect({ bytes: f.region.bytes, pages: f.area.pages, base: f.area.basePfn * 4096, kind: f.kind }).toEqual({ bytes: 32 * MiB, pages: 8192, base: f.region.base, kind: 'gcma' });
  expect(f.readBack).toEqual({ '4096': 0, [String(3 * MiB + 4096)]: 0 });
  // 8 MiB + 4 KiB held, then every page back on close; 4 MiB back when its holder is killed
  expect([f.held.during - f.held.before, f.held.after]).toEqual([2049, f.held.before]);
  expect([f.killed.during - f.killed.before, f.killed.after]).toEqual([1024, f.killed.before]);
  // The gen_pool has no room: ENOMEM, typed
  expect(f.tooBig).toEqual({ name: 'OutOfMemoryError', code: 'ENOMEM', errno: -12 });
}
