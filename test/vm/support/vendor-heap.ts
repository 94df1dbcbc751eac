/**
 * The reference vendor heap (kernel/module/gcma_vendor_heap.c) through the
 * TypeScript API, in the boot test/boot/heap-zeroing.test.ts gives it (a
 * region of its own: it cannot share the VM suites' boot, whose memory and
 * GCMA areas the suites count on). A script, `node vendor-heap.js HEAP`:
 * it gathers what the boot test checks and prints it as one JSON line.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DmaHeap } from '../../../lib/dma-heap';
import { GcmaError } from '../../../lib/errors';
import { listHeaps } from '../../../lib/heap-cli';
import { projectRoot } from '../../../lib/paths';
import { readCounters, writeReadBack } from './guest';

const MiB = 2 ** 20;

export interface VendorHeapFacts {
  /** What the module found by name: /sys/module/gcma_vendor_heap/parameters. */
  region: { base: number; bytes: number };
  /** Its GCMA area: /sys/kernel/mm/gcma/HEAP. */
  area: { basePfn: number; pages: number };
  /** `gcma heap list`'s kind for it. */
  kind: string | undefined;
  /** Words written through one mapping and not read back through another, by buffer size. */
  readBack: Record<string, number>;
  /** The area's allocated pages: before, holding 8 MiB + 4 KiB, after closing them. */
  held: { before: number; during: number; after: number };
  /** The same with another process holding 4 MiB, then killed. */
  killed: { before: number; during: number; after: number };
  /** Allocating twice the region. */
  tooBig: { name: string; code: string; errno: number } | null;
}

function allocated(heap: string): number {
  return readCounters(`/sys/kernel/mm/gcma/${heap}`)['allocated']!;
}

function param(name: string): number {
  return Number(readFileSync(`/sys/module/gcma_vendor_heap/parameters/${name}`, 'utf8'));
}

function readBack(heap: DmaHeap, bytes: number): number {
  using buf = heap.alloc(bytes);
  return writeReadBack(buf).bad;
}

async function killedHolder(name: string): Promise<VendorHeapFacts['killed']> {
  const before = allocated(name);
  const script = `
    const { DmaHeap } = require(${JSON.stringify(join(projectRoot(), 'dist', 'lib', 'index.js'))});
    const held = DmaHeap.open(${JSON.stringify(name)}).alloc(${4 * MiB});
    held.map().fill(1);
    process.stdout.write('held');
    setInterval(() => held.size, 1 << 30);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the holder exited early: ${code}`)));
  });
  const during = allocated(name);
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
  return { before, during, after: allocated(name) };
}

export async function vendorHeapFacts(name: string): Promise<VendorHeapFacts> {
  const heap = DmaHeap.open(name);
  const area = readCounters(`/sys/kernel/mm/gcma/${name}`);
  const before = allocated(name);
  const bufs = [heap.alloc(8 * MiB), heap.alloc(4096)];
  const during = allocated(name);
  for (const b of bufs) b.close();
  let tooBig: VendorHeapFacts['tooBig'] = null;
  try {
    heap.alloc(2 * param('size')).close();
  } catch (err) {
    if (!(err instanceof GcmaError)) throw err;
    tooBig = { name: err.constructor.name, code: err.code, errno: err.errno ?? 0 };
  }
  return {
    region: { base: param('base'), bytes: param('size') },
    area: { basePfn: area['base_pfn']!, pages: area['size']! },
    kind: listHeaps().find((h) => h.name === name)?.kind,
    readBack: { '4096': readBack(heap, 4096), [String(3 * MiB + 4096)]: readBack(heap, 3 * MiB + 4096) },
    held: { before, during, after: allocated(name) },
    killed: await killedHolder(name),
    tooBig,
  };
}

if (require.main === module) {
  const [heap] = process.argv.slice(2);
  if (!heap) {
    console.error('usage: vendor-heap.js HEAP');
    process.exit(2);
  }
  vendorHeapFacts(heap).then(
    (facts) => console.log(`vendor-heap: ${JSON.stringify(facts)}`),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
