/**
 * dma-buf heaps with init_on_free=1, in a boot of its own (the VM suites'
 * boot has it off): the page allocator then zeroes nothing on allocation,
 * counting on the free path, but cleancache wrote file data into GCMA's
 * pages since. Every heap's selftest cases (the zeroing ones among them),
 * and a thousand buffers from each heap on a GCMA area (the guaranteed CMA
 * area's, the reference vendor heap), taken while the areas hold copies of
 * a marked file, must come zeroed. The vendor heap module is loaded here
 * with bad parameters first: refused, with the reason in the log.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { runInVm, sparseDisk } from '../../lib/vm/runner';
import { heapTestProgram, listTap, parseTap } from '../support/tap';
import { testKernel, testModule, VENDOR_REGION } from '../support/test-kernel';
import { LARGEST_BUFFER, type MarkerHunt } from '../vm/support/heap-marker';

jest.setTimeout(600_000);

const root = projectRoot();

it('hands out zeroed buffers from every heap, and no cached file data, with init_on_free=1', async () => {
  const kernel = await testKernel();
  const resultsDir = join(root, 'results', 'test', 'boot', 'heap-zeroing');
  mkdirSync(resultsDir, { recursive: true });
  const program = heapTestProgram(root);
  const marker = join(root, 'dist', 'test', 'vm', 'support', 'heap-marker.js');
  const ko = await testModule(kernel, 'gcma_vendor_heap');
  const script = [
    `insmod ${ko}; echo "insmod without region: $?"`,
    `insmod ${ko} region=no-such-region; echo "insmod region=no-such-region: $?"`,
    `insmod ${ko} region=${VENDOR_REGION.name} || exit 1`,
    `grep -q init_on_free=1 /proc/cmdline && ${program}`,
    // The two areas are the boot's only pools: a 96 MiB file fills their 64 MiB
    `node ${marker} /dev/vda 96 guaranteed ${VENDOR_REGION.name}`,
  ];
  let out = '';
  const r = await runInVm({
    bzImage: kernel.bzImage,
    cwd: root,
    command: ['sh', '-c', script.join('\n')],
    memoryMiB: 512,
    cmdline: ['init_on_free=1', 'cma=64M', 'gcma=guaranteed:32M', VENDOR_REGION.cmdline],
    disks: [sparseDisk(join(resultsDir, 'scratch.img'), 512 * 2 ** 20)],
    resultsDir,
    output: (t) => (out += t),
  });
  expect(r.exitCode).toBe(0);
  // Refused, and why: the module has no region to take
  const log = readFileSync(r.consoleLog, 'utf8');
  expect(out).toMatch(/^insmod without region: [1-9]/m);
  expect(out).toMatch(/^insmod region=no-such-region: [1-9]/m);
  expect(log).toContain('gcma_vendor_heap: region= names no reserve_mem= region');
  expect(log).toContain('gcma_vendor_heap: no reserve_mem= region no-such-region');
  const tap = parseTap(out);
  const names = tap.cases.map((c) => c.name);
  expect(names.filter((n) => n.startsWith('guaranteed: ')).length).toBeGreaterThan(0);
  expect({ planned: tap.planned, failed: tap.cases.filter((c) => !c.ok) }).toEqual({ planned: tap.cases.length, failed: [] });
  // The same cases as the program lists on the host, for the guest's heaps
  const perHeap = listTap(program, ['HEAP']).map((n) => n.replace(/^HEAP: /, ''));
  for (const heap of ['guaranteed', 'reserved', 'system', VENDOR_REGION.name]) {
    expect(names.filter((n) => n.startsWith(`${heap}: `)).map((n) => n.slice(heap.length + 2))).toEqual(perHeap.filter((n) => !n.includes(' what is no heap ')));
  }
  const hunts = [...out.matchAll(/^heap-marker: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as MarkerHunt);
  expect(hunts.map((h) => h.heap)).toEqual(['guaranteed', VENDOR_REGION.name]);
  for (const hunt of hunts) {
    console.log(`init_on_free=1: ${JSON.stringify(hunt)}`);
    // The control: each 8192-page area held copies, and the allocations took them
    expect(hunt.minCached).toBeGreaterThan(4096);
    expect(hunt.recalled).toBeGreaterThanOrEqual((hunt.refills * LARGEST_BUFFER) / 4096);
    expect({ heap: hunt.heap, leaks: hunt.leaks, notZeroed: hunt.notZeroed }).toEqual({ heap: hunt.heap, leaks: 0, notZeroed: 0 });
  }
});
