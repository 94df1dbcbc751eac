/**
 * GCMA-backed CMA areas declared on the kernel command line:
 * `cma=<size>,guaranteed` for the default area, `gcma=<name>:<size>,...`
 * for named ones. Good values make areas of the right kind (the gcma file
 * in /sys/kernel/mm/cma/<area>/, a GCMA area of the same name); bad ones
 * boot with a message and no area, never a panic or a WARN.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { runInVm } from '../../lib/vm/runner';
import { SMALL_GUEST_MIB, testKernel } from '../support/test-kernel';

jest.setTimeout(600_000);

const root = projectRoot();

// Each CMA area as "<name> gcma=<0|1>", then the GCMA areas, then the dma-buf heaps
const listAreas = [
  'for d in /sys/kernel/mm/cma/*; do [ -d "$d" ] && echo "cma $(basename $d) gcma=$(cat $d/gcma)"; done',
  'for d in /sys/kernel/mm/gcma/*; do [ -d "$d" ] && echo "gcma $(basename $d) $(cat $d/size)"; done',
  'for d in /dev/dma_heap/*; do [ -e "$d" ] && echo "heap $(basename $d)"; done',
  'true',
].join('; ');

async function boot(name: string, cmdline: string[]): Promise<{ areas: string[]; heaps: string[]; console: string }> {
  const kernel = await testKernel();
  let out = '';
  const r = await runInVm({
    bzImage: kernel.bzImage,
    cwd: root,
    command: ['sh', '-c', listAreas],
    cmdline,
    memoryMiB: SMALL_GUEST_MIB,
    resultsDir: join(root, 'results', 'test', 'boot', `cma-cmdline-${name}`),
    output: (t) => (out += t),
  });
  expect(r.exitCode).toBe(0);
  const lines = out.split('\n');
  return {
    areas: lines.filter((l) => /^(cma|gcma) /.test(l)).sort(),
    heaps: lines.filter((l) => l.startsWith('heap ')).map((l) => l.slice(5)).sort(),
    console: readFileSync(r.consoleLog, 'utf8'),
  };
}

it('declares the default area and named areas backed by GCMA, and leaves bad ones out with a message', async () => {
  const { areas, heaps, console } = await boot('good-and-bad', [
    'cma=16M,guaranteed',
    'gcma=video:8M,noname,:4M,a/b:4M,nosize:,junk:4Mq,huge:64G,camera:4M@0x4000000-0xf000000,' +
      // given twice; the default area's name; wraps; not memory (fixed, past RAM)
      'video:4M,reserved:4M,wrap:4M@0xffffffffffc00000,far:4M@0x100000000,' +
      // not a format (it was one: %n WARNed, a panic here); a name cleancache refuses
      'p%nq:4M,stored:4M',
  ]);
  expect(areas).toEqual([
    'cma camera gcma=1',
    'cma p%nq gcma=1',
    'cma reserved gcma=1',
    // GCMA refused it at activation: its pages went to the page allocator
    'cma stored gcma=0',
    'cma video gcma=1',
    'gcma camera 1024',
    'gcma p%nq 1024',
    'gcma reserved 4096',
    'gcma video 2048',
  ]);
  // A CMA heap for each area with pages (patch 0014), "p%nq" too: its name is no format either
  expect(heaps).toEqual(['camera', 'p%nq', 'reserved', 'system', 'video']);
  for (const message of [
    /gcma=: bad area "noname": expected <name>:<size>\[@<start>\[-<end>\]\]/,
    /gcma=: bad area "": expected/,
    /gcma=: bad area "a\/b": expected/,
    /gcma=: bad size or placement for area nosize: ""/,
    /gcma=: bad size or placement for area junk: "4Mq"/,
    /gcma=: area huge of 0x0*1000000000 bytes not reserved: -22/,
    /gcma=: area camera of 4 MiB at 0x/,
    /gcma: reserved: 4096 pages at PFN/,
    /gcma=: area video given twice/,
    /gcma=: area reserved: a CMA area has that name/,
    /gcma=: bad size or placement for area wrap: "4M@0xffffffffffc00000"/,
    /gcma=: area far: 0x0*400000 bytes at 0x0*100000000 are not all memory/,
    /CMA area stored: GCMA refused it: -22/,
    /CMA area stored could not be activated/,
  ]) {
    expect(console).toMatch(message);
  }
});

it('keeps the default area plain, with a message, for an unknown cma= suffix', async () => {
  // The last cma= counts whole: the first one's ",guaranteed" does not stick
  const { areas, console } = await boot('plain', ['cma=8M,guaranteed', 'cma=8M,guarantee']);
  expect(areas).toEqual(['cma reserved gcma=0']);
  expect(console).toMatch(/cma=: ignoring ",guarantee"/);
});
