/**
 * File data that cleancache kept in a GCMA area must never reach a buffer
 * of a dma-buf heap on that area (a guaranteed CMA area's heap, the
 * reference vendor heap). A file of marked pages, larger than every
 * cleancache pool of the boot, is read and dropped (its pages become
 * copies, many in the heap's area) again and again while buffers of mixed
 * sizes are allocated from the heap and searched for the marker and for
 * any byte that is not zero. A script the heap boots run in the guest
 * (test/support/heap-boot.ts): `node heap-marker.js DISK FILE_MIB HEAP...`,
 * a JSON line per heap on stdout.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DmaHeap } from '../../../lib/dma-heap';
import { countNonZero } from '../../../lib/heap-cli';
import { dropCaches } from '../../../lib/procfs';
import { mountScratch, unmount } from '../../../lib/scratch';
import { readCounters } from './guest';

export const MARKER = Buffer.from('GCMA-HEAP-MARKER: file data that must never reach a buffer\n');
const MiB = 2 ** 20;
// Up to 1 MiB: every byte is read back through a mapping, which costs most
// of the allocations' time under TCG, while a buffer's size matters little
// to what it shows
const SIZES = [4096, 16384, 65536, 262144, MiB];
/** The largest buffer: its pages held copies at each refill, as the first fit gives it the lowest pages. */
export const LARGEST_BUFFER = Math.max(...SIZES);


export interface MarkerHunt {
  heap: string;
  allocations: number;
  /** Times the file was read and dropped into the area again. */
  refills: number;
  /** The fewest copies the area held right after a refill. */
  minCached: number;
  /** Copies the allocations took back from cleancache (at least LARGEST_BUFFER's pages per refill). */
  recalled: number;
  /** Buffers in which the marker showed. */
  leaks: number;
  /** Buffers with a byte that was not zero. */
  notZeroed: number;
  /** Where the time went: reading and dropping the file, allocating and checking buffers. */
  refillMs: number;
  allocateMs: number;
}

/** Read the file through the page cache, then drop it: its pages become cleancache copies. */
function cacheFile(file: string): void {
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] });
  dropCaches();
}

/** Write the marked file and flush it: reading it back goes through the page cache, then cleancache. */
function writeMarkedFile(file: string, fileMiB: number): void {
  const page = Buffer.alloc(4096);
  for (let at = 0; at + MARKER.length <= page.length; at += MARKER.length) MARKER.copy(page, at);
  const chunk = Buffer.concat(Array.from({ length: 256 }, () => page));
  const fd = openSync(file, 'w');
  for (let i = 0; i < fileMiB; i++) writeSync(fd, chunk);
  closeSync(fd);
  execFileSync('sync');
}

/** `allocations` buffers from heap `area` while its GCMA area (of the same name) holds copies of the file. */
function hunt(file: string, area: string, allocations: number, refillEvery: number): MarkerHunt {
  const pool = `/sys/kernel/mm/cleancache/${area}`;
  const heap = DmaHeap.open(area);
  const recalled0 = readCounters(pool)['recalled']!;
  const r: MarkerHunt = { heap: area, allocations, refills: 0, minCached: Infinity, recalled: 0, leaks: 0, notZeroed: 0, refillMs: 0, allocateMs: 0 };
  for (let i = 0; i < allocations; i++) {
    // Copies come back into the pages the allocations took (the first
    // fit gives the same low pages again and again)
    if (i % refillEvery === 0) {
      const t0 = performance.now();
      cacheFile(file);
      r.refillMs += performance.now() - t0;
      r.refills++;
      r.minCached = Math.min(r.minCached, readCounters(pool)['cached']!);
    }
    const t0 = performance.now();
    using buf = heap.alloc(SIZES[i % SIZES.length]!);
    const view = buf.map();
    if (view.includes(MARKER)) r.leaks++;
    if (countNonZero(view)) r.notZeroed++;
    r.allocateMs += performance.now() - t0;
  }
  r.recalled = readCounters(pool)['recalled']! - recalled0;
  r.refillMs = Math.round(r.refillMs);
  r.allocateMs = Math.round(r.allocateMs);
  return r;
}

/**
 * Hunt for the marker in buffers of each heap in turn, the file written once on `disk` mounted at `mnt`.
 * After a refill the first buffer of each size (the first fit: the area's
 * lowest pages, LARGEST_BUFFER's worth) takes the copies back; the buffers
 * after that get the same pages again, with none: a hundred allocations
 * see what a thousand did (which took 20 s a heap), in a tenth of the time.
 */
export function huntMarker(disk: string, mnt: string, heaps: readonly string[], fileMiB: number, allocations = 100, refillEvery = allocations): MarkerHunt[] {
  mountScratch(disk, mnt);
  try {
    const file = join(mnt, 'marked');
    writeMarkedFile(file, fileMiB);
    return heaps.map((heap) => hunt(file, heap, allocations, refillEvery));
  } finally {
    unmount(mnt);
  }
}

if (require.main === module) {
  const [disk, fileMiB, ...heaps] = process.argv.slice(2);
  if (!disk || !Number(fileMiB) || !heaps.length) {
    console.error('usage: heap-marker.js DISK FILE_MIB HEAP...');
    process.exit(2);
  }
  for (const r of huntMarker(disk, '/mnt/heap-marker', heaps, Number(fileMiB))) console.log(`heap-marker: ${JSON.stringify(r)}`);
}
