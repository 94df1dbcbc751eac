/**
 * The heap commands of the gcma CLI: `heap list` and `heap alloc`, for any
 * dma-buf heap (/dev/dma_heap). A CMA heap is named after its CMA area, so
 * the list says what backs it from /sys/kernel/mm/cma.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DMA_HEAP_DIR, DmaHeap } from './dma-heap';
import { invalidArgument } from './errors';
import { cmaAreaStats } from './stats';
import type { Backing } from './device';
import { table } from './util/table';

export interface HeapRow {
  name: string;
  path: string;
  /**
   * 'cma' or 'cma+gcma' for a CMA area's heap, 'gcma' for a heap named
   * after a GCMA area of its own (a vendor heap over a region it registered,
   * as kernel/module/gcma_vendor_heap.c), by name; else 'other' (system).
   */
  kind: Backing | 'other';
}

export function listHeaps(gcmaDir = '/sys/kernel/mm/gcma'): HeapRow[] {
  const areas = new Map(cmaAreaStats().map((a) => [a.name, a.backing]));
  const kind = (name: string): HeapRow['kind'] => areas.get(name) ?? (existsSync(join(gcmaDir, name)) ? 'gcma' : 'other');
  // Names DmaHeap.list() just read: no need to open each to know its node
  return DmaHeap.list().map((name) => ({ name, path: join(DMA_HEAP_DIR, name), kind: kind(name) }));
}

export function formatHeaps(rows: readonly HeapRow[]): string {
  return table(
    ['HEAP', 'KIND', 'PATH'],
    rows.map((r) => [r.name, r.kind, r.path]),
  );
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };

/** '4096', '64K', '8M', '1G' (binary units) as bytes. */
export function parseBytes(text: string): number {
  const m = /^(\d+)([KMG]?)i?B?$/i.exec(text);
  const bytes = m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw invalidArgument(`SIZE must be a positive number of bytes, with K, M or G, not '${text}'`);
  return bytes;
}

export interface HeapAllocResult {
  heap: string;
  bytes: number;
  /** DMA_HEAP_IOCTL_ALLOC as JavaScript saw it (addon call included). */
  allocMs: number;
  /** Bytes of the mapping that were not zero (a heap must hand out zeroed memory). */
  nonZeroBytes: number;
  heldMs: number;
}

const ZEROES = Buffer.alloc(1 << 20);

/** Bytes of `b` that are not zero: memcmp by MiB, byte by byte only where one differs. */
export function countNonZero(b: Buffer): number {
  let n = 0;
  for (let at = 0; at < b.length; at += ZEROES.length) {
    const chunk = b.subarray(at, at + ZEROES.length);
    if (chunk.equals(ZEROES.subarray(0, chunk.length))) continue;
    for (const byte of chunk) if (byte !== 0) n++;
  }
  return n;
}

/** Allocate from the heap, check the buffer is zeroed, hold it, close it. */
export async function allocFromHeap(name: string, bytes: number, holdMs: number): Promise<HeapAllocResult> {
  const heap = DmaHeap.open(name);
  const t0 = process.hrtime.bigint();
  using buf = heap.alloc(bytes);
  const allocMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const view = buf.map();
  buf.sync({ read: true, start: true });
  const nonZeroBytes = countNonZero(view.subarray(0, bytes));
  buf.sync({ read: true, end: true });
  if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
  return { heap: name, bytes, allocMs, nonZeroBytes, heldMs: holdMs };
}

export function formatHeapAlloc(r: HeapAllocResult): string {
  return table(
    ['HEAP', 'BYTES', 'ALLOC_MS', 'NONZERO', 'HELD_MS'],
    [[r.heap, r.bytes, r.allocMs.toFixed(3), r.nonZeroBytes, r.heldMs]],
    ['left', 'right', 'right', 'right', 'right'],
  );
}
