/**
 * What calling the device costs from JavaScript against C: the same
 * ioctls, GCMA_TEST_IOC_AREA_INFO (a round trip that allocates nothing)
 * and GCMA_TEST_IOC_ALLOC (with its free, not timed), timed from the
 * addon's synchronous calls, its asynchronous ones (a worker thread and a
 * Promise), and from C (lib/bench/ioctl_roundtrip.c), in the same run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Allocation, Area } from '../device';
import { projectRoot } from '../paths';
import { summarize, type Summary } from './stats';

export type RoundTripCaller = 'c' | 'js' | 'js-async';
export type RoundTripOp = 'info' | 'alloc';
export const ROUND_TRIP_CALLERS: readonly RoundTripCaller[] = ['c', 'js', 'js-async'];

export interface RoundTrip {
  caller: RoundTripCaller;
  op: RoundTripOp;
  /** Pages per allocation. */
  pages: number;
  ns: number[];
  summary: Summary | null;
  /** ALLOC: each allocation's time in the kernel's allocator (kernel_ns), for the time outside it; missing from older reports. */
  kernelNs?: number[];
}

/** The C side, built by make (run, test). */
export function roundTripProgram(root = projectRoot()): string {
  return join(root, 'lib', 'bench', 'ioctl_roundtrip');
}

/** Calls made before the timed ones, not timed: V8 compiles the path meanwhile, as in a program that runs for a while. */
const WARMUP_CALLS = 20;

/**
 * The time of each of `rounds` calls of `call`, ns; `after` (not timed)
 * gets each result. A synchronous call is not awaited inside the timing.
 */
async function timeCalls<T>(rounds: number, call: () => T | Promise<T>, after: (r: T) => unknown = () => undefined): Promise<number[]> {
  for (let i = 0; i < WARMUP_CALLS; i++) {
    const p = call();
    await after(p instanceof Promise ? await p : p);
  }
  const ns: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    const p = call();
    const r = p instanceof Promise ? await p : p;
    ns.push(Number(process.hrtime.bigint() - t));
    await after(r);
  }
  return ns;
}

/** `rounds` of each op on GCMA area `area` from each caller; null with the reason if the C side is not built. */
export async function measureRoundTrips(area: Area, rounds: number, pages: number): Promise<RoundTrip[] | string> {
  const program = roundTripProgram();
  if (!existsSync(program)) return `${program} is not built (make run builds it)`;
  const out: RoundTrip[] = [];
  const add = (caller: RoundTripCaller, op: RoundTripOp, ns: number[], kernelNs?: number[]): void => {
    out.push({ caller, op, pages, ns, summary: summarize(ns), ...(kernelNs ? { kernelNs } : {}) });
  };

  const c = spawnSync(program, [String(rounds), String(area.index), String(pages)], { encoding: 'utf8' });
  if (c.status !== 0) throw new Error(`${program} failed (${c.status ?? c.signal}): ${c.stderr}`);
  const fromC = JSON.parse(c.stdout) as { infoNs: number[]; allocNs: number[]; allocKernelNs: number[] };
  add('c', 'info', fromC.infoNs);
  add('c', 'alloc', fromC.allocNs, fromC.allocKernelNs);

  // Each allocation's kernel_ns is kept as it is freed (not timed); the timed calls' are the last
  const jsKernelNs: number[] = [];
  const asyncKernelNs: number[] = [];
  add('js', 'info', await timeCalls(rounds, () => area.stats()));
  add('js', 'alloc', await timeCalls(rounds, () => area.alloc(pages), (a) => {
    jsKernelNs.push(a.kernelNs);
    return a.free();
  }), jsKernelNs.slice(-rounds));
  add('js-async', 'info', await timeCalls(rounds, () => area.statsAsync()));
  add('js-async', 'alloc', await timeCalls(rounds, () => area.allocAsync(pages), (a: Allocation) => {
    asyncKernelNs.push(a.kernelNs);
    return a.freeAsync();
  }), asyncKernelNs.slice(-rounds));
  return out;
}
