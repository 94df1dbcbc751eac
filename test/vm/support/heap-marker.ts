/**
 * File data that cleancache kept in a guaranteed CMA area must never reach
 * a buffer of that area's dma-buf heap. A file of marked pages, larger than
 * every cleancache pool of the boot, is read and dropped (its pages become
 * copies, many in the guaranteed area) again and again while buffers of
 * mixed sizes are allocated from the heap and searched for the marker and
 * for any byte that is not zero. Run by the dma-heaps VM suite, and as a
 * script (`node heap-marker.js DISK`, JSON on stdout) by a boot test with
 * init_on_free=1.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DmaHeap } from '../../../lib/dma-heap';
import { countNonZero } from '../../../lib/heap-cli';
import { dropCaches } from '../../../lib/procfs';
import { mountScratch } from '../../../lib/scratch';
import { readCounters } from './guest';

export const MARKER = Buffer.from('GCMA-HEAP-MARKER: file data that must never reach a buffer\n');
const MiB = 2 ** 20;
/** More than the pools of a VM suites' boot hold (the suites' area and the guaranteed one). */
export const FILE_MIB = 192;
const SIZES = [4096, 65536, 262144, MiB, 4 * MiB];
const REFILL_EVERY = 500;

export interface MarkerHunt {
  allocations: number;
  /** The fewest copies the area held right after a refill. */
  minCached: number;
  /** Copies the allocations took back from cleancache (about a 4 MiB buffer's worth per refill). */
  recalled: number;
  /** Buffers in which the marker showed. */
  leaks: number;
  /** Buffers with a byte that was not zero. */
  notZeroed: number;
}

/** Read the file through the page cache, then drop it: its pages become cleancache copies. */
function cacheFile(file: string): void {
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] });
  dropCaches();
}

/** Allocate `allocations` buffers from heap `area` while its area holds copies of a marked file on `disk`. */
export function huntMarker(disk: string, mnt: string, fileMiB = FILE_MIB, area = 'guaranteed', allocations = 1000): MarkerHunt {
  const pool = `/sys/kernel/mm/cleancache/${area}`;
  mountScratch(disk, mnt);
  try {
    const file = join(mnt, 'marked');
    const page = Buffer.alloc(4096);
    for (let at = 0; at + MARKER.length <= page.length; at += MARKER.length) MARKER.copy(page, at);
    const chunk = Buffer.concat(Array.from({ length: 256 }, () => page));
    const fd = openSync(file, 'w');
    for (let i = 0; i < fileMiB; i++) writeSync(fd, chunk);
    closeSync(fd);
    execFileSync('sync');

    const heap = DmaHeap.open(area);
    const recalled0 = readCounters(pool)['recalled']!;
    const r: MarkerHunt = { allocations, minCached: Infinity, recalled: 0, leaks: 0, notZeroed: 0 };
    for (let i = 0; i < allocations; i++) {
      // Copies come back into the pages the allocations took (the CMA
      // bitmap's first fit gives the same low pages again and again)
      if (i % REFILL_EVERY === 0) {
        cacheFile(file);
        r.minCached = Math.min(r.minCached, readCounters(pool)['cached']!);
      }
      using buf = heap.alloc(SIZES[i % SIZES.length]!);
      const view = buf.map();
      if (view.includes(MARKER)) r.leaks++;
      if (countNonZero(view)) r.notZeroed++;
    }
    r.recalled = readCounters(pool)['recalled']! - recalled0;
    return r;
  } finally {
    execFileSync('umount', [mnt]);
  }
}

if (require.main === module) {
  const [disk, fileMiB = String(FILE_MIB)] = process.argv.slice(2);
  if (!disk) {
    console.error('usage: heap-marker.js DISK [FILE_MIB]');
    process.exit(2);
  }
  console.log(`heap-marker: ${JSON.stringify(huntMarker(disk, '/mnt/heap-marker', Number(fileMiB)))}`);
}
