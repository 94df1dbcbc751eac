/**
 * dma-buf heap allocation latency, in the benchmark's pressure phase: the
 * plain CMA area's heap against the guaranteed CMA area's (both the CMA
 * heap, cma_alloc(): only the backing differs), camera-sized buffers,
 * timed around DMA_HEAP_IOCTL_ALLOC (the heap zeroes each buffer in it)
 * from JavaScript (DmaHeap) and from C (lib/bench/dma_heap_alloc.c), and
 * the close that frees each buffer.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DMA_HEAP_DIR, DmaHeap } from '../dma-heap';
import { GcmaError } from '../errors';
import { projectRoot } from '../paths';
import { summarize, type Summary } from './stats';

const MiB = 1024 * 1024;

/** The CMA heap of a plain area ('cma') or of a guaranteed one ('cma+gcma'). */
export type HeapBacking = 'cma' | 'cma+gcma';
export const HEAP_BACKINGS: readonly HeapBacking[] = ['cma+gcma', 'cma'];

export interface HeapResult {
  heap: string;
  backing: HeapBacking;
  /** Who timed it: the C program or JavaScript (the addon's call included). */
  from: 'c' | 'js';
  bytes: number;
  attempts: number;
  successes: number;
  /** Failed allocations by error code. */
  failures: Record<string, number>;
  /** DMA_HEAP_IOCTL_ALLOC, ns, one per success. */
  allocNs: number[];
  /** Closing the buffer's fd (the heap frees it), ns. */
  freeNs: number[];
  alloc: Summary | null;
  free: Summary | null;
}

export interface BenchHeap {
  name: string;
  backing: HeapBacking;
}

/** The C side, built by make (run, test). */
export function heapAllocProgram(root = projectRoot()): string {
  return join(root, 'lib', 'bench', 'dma_heap_alloc');
}

/** Why the heaps cannot be measured on this kernel, or null. */
export function missingHeaps(heaps: readonly BenchHeap[], dir = DMA_HEAP_DIR): string | null {
  const missing = heaps.filter((h) => !existsSync(join(dir, h.name))).map((h) => h.name);
  if (missing.length) return `no dma-buf heap ${missing.join(', ')} in ${dir}`;
  if (!existsSync(heapAllocProgram())) return `${heapAllocProgram()} is not built (make run builds it)`;
  return null;
}

function finish(r: Omit<HeapResult, 'alloc' | 'free'>): HeapResult {
  return { ...r, alloc: summarize(r.allocNs), free: summarize(r.freeNs) };
}

/** `rounds` allocations of `bytes` from each heap in turn, timed from JavaScript (DmaHeap opens the heap's node for each). */
function fromJs(heaps: readonly BenchHeap[], bytes: number, rounds: number): HeapResult[] {
  const runs = heaps.map((h) => ({
    heap: DmaHeap.open(h.name),
    r: { heap: h.name, backing: h.backing, from: 'js' as const, bytes, attempts: 0, successes: 0, failures: {} as Record<string, number>, allocNs: [] as number[], freeNs: [] as number[] },
  }));
  for (let i = 0; i < rounds; i++) {
    for (const { heap, r } of runs) {
      r.attempts++;
      const t0 = process.hrtime.bigint();
      let buf;
      try {
        buf = heap.alloc(bytes);
      } catch (err) {
        if (!(err instanceof GcmaError)) throw err;
        r.failures[err.code] = (r.failures[err.code] ?? 0) + 1;
        continue;
      }
      const t1 = process.hrtime.bigint();
      buf.close();
      r.freeNs.push(Number(process.hrtime.bigint() - t1));
      r.allocNs.push(Number(t1 - t0));
      r.successes++;
    }
  }
  return runs.map(({ r }) => finish(r));
}

interface CLine {
  heap: string;
  bytes: number;
  allocNs: number[];
  freeNs: number[];
  failures: Record<string, number>;
}

/** The same from the C program, one run for all heaps. */
function fromC(heaps: readonly BenchHeap[], bytes: number, rounds: number): HeapResult[] {
  const r = spawnSync(heapAllocProgram(), [String(bytes), String(rounds), ...heaps.map((h) => h.name)], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${heapAllocProgram()}: exit ${r.status}: ${r.stderr.trim()}`);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as CLine);
  return heaps.map((h) => {
    const c = lines.find((l) => l.heap === h.name);
    if (!c) throw new Error(`${heapAllocProgram()} printed nothing for heap ${h.name}`);
    const failed = Object.values(c.failures).reduce((a, b) => a + b, 0);
    return finish({ heap: h.name, backing: h.backing, from: 'c', bytes, attempts: c.allocNs.length + failed, successes: c.allocNs.length, failures: c.failures, allocNs: c.allocNs, freeNs: c.freeNs });
  });
}

/** Each size from JavaScript, then from C, every heap in turn within a round. */
export function measureHeaps(heaps: readonly BenchHeap[], sizesMiB: readonly number[], rounds: number, log: (m: string) => void): HeapResult[] {
  const results: HeapResult[] = [];
  for (const mib of sizesMiB) {
    const now = [...fromJs(heaps, mib * MiB, rounds), ...fromC(heaps, mib * MiB, rounds)];
    results.push(...now);
    const p50 = (x: HeapResult): string => (x.alloc ? `${(x.alloc.p50 / 1e6).toFixed(2)} ms` : '-');
    log(`heaps, ${mib} MiB: ${now.map((x) => `${x.from} ${x.heap} ${x.successes}/${x.attempts} p50 ${p50(x)}`).join(', ')}`);
  }
  return results;
}
