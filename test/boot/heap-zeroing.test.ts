/**
 * dma-buf heaps with init_on_free=1, in a boot of its own (the VM suites'
 * boot has it off): the page allocator then zeroes nothing on allocation,
 * counting on the free path, but cleancache wrote file data into the
 * guaranteed area's pages since. Every heap's selftest cases (the zeroing
 * ones among them) and a thousand buffers of the guaranteed heap, taken
 * while its area holds copies of a marked file, must come zeroed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { runInVm, sparseDisk } from '../../lib/vm/runner';
import { heapTestProgram, listTap, parseTap } from '../support/tap';
import { testKernel } from '../support/test-kernel';

jest.setTimeout(600_000);

const root = projectRoot();

it('hands out zeroed buffers from every heap, and no cached file data, with init_on_free=1', async () => {
  const kernel = await testKernel();
  const resultsDir = join(root, 'results', 'test', 'boot', 'heap-zeroing');
  mkdirSync(resultsDir, { recursive: true });
  const program = heapTestProgram(root);
  const marker = join(root, 'dist', 'test', 'vm', 'support', 'heap-marker.js');
  let out = '';
  const r = await runInVm({
    bzImage: kernel.bzImage,
    cwd: root,
    // The guaranteed area is the boot's only pool: a 48 MiB file fills its 32 MiB
    command: ['sh', '-c', `grep -q init_on_free=1 /proc/cmdline && ${program}; node ${marker} /dev/vda 48`],
    memoryMiB: 512,
    cmdline: ['init_on_free=1', 'cma=64M', 'gcma=guaranteed:32M'],
    disks: [sparseDisk(join(resultsDir, 'scratch.img'), 512 * 2 ** 20)],
    resultsDir,
    output: (t) => (out += t),
  });
  expect(r.exitCode).toBe(0);
  const tap = parseTap(out);
  const names = tap.cases.map((c) => c.name);
  expect(names.filter((n) => n.startsWith('guaranteed: ')).length).toBeGreaterThan(0);
  expect({ planned: tap.planned, failed: tap.cases.filter((c) => !c.ok) }).toEqual({ planned: tap.cases.length, failed: [] });
  // The same cases as the program lists on the host, for the guest's heaps
  const perHeap = listTap(program, ['HEAP']).map((n) => n.replace(/^HEAP: /, ''));
  for (const heap of ['guaranteed', 'reserved', 'system']) {
    expect(names.filter((n) => n.startsWith(`${heap}: `)).map((n) => n.slice(heap.length + 2))).toEqual(perHeap.filter((n) => !n.includes(' what is no heap ')));
  }
  const line = /^heap-marker: (.*)$/m.exec(out)?.[1];
  expect(line).toBeDefined();
  const hunt = JSON.parse(line!) as { minCached: number; recalled: number; leaks: number; notZeroed: number };
  console.log(`init_on_free=1: ${JSON.stringify(hunt)}`);
  expect(hunt.minCached).toBeGreaterThan(4096);
  expect(hunt.recalled).toBeGreaterThanOrEqual(1024);
  expect({ leaks: hunt.leaks, notZeroed: hunt.notZeroed }).toEqual({ leaks: 0, notZeroed: 0 });
});
