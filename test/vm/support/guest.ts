/** Helpers for suites that run inside the guest: sysfs counters, modules, caches. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DmaBuf } from '../../../lib/dma-heap';
import { projectRoot } from '../../../lib/paths';
import { dropCaches, meminfoKiB, vmstatCounter } from '../../../lib/procfs';
import { requireCleancacheStats } from '../../../lib/stats';

/** gcma_test.ko for the running kernel: make test names the debug flavour's. */
export const TEST_MODULE = process.env['GCMA_TEST_MODULE'] ?? join(projectRoot(), 'kernel', 'module', 'gcma_test.ko');

/** Every counter file of a sysfs directory, as numbers. */
export function readCounters(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!existsSync(path) || name.startsWith('.')) continue;
    try {
      out[name] = Number(readFileSync(path, 'utf8').trim());
    } catch {
      // a subdirectory (per-pool statistics)
    }
  }
  return out;
}

/** How many pages of a file are in the page cache (fincore, util-linux). */
export function residentPages(path: string): number {
  return Number(execFileSync('fincore', ['--raw', '--noheadings', '--output', 'PAGES', path], { encoding: 'utf8' }).trim());
}

/** lib/stats.ts's typed counters, as a plain record for the suites' deltas. */
export function cleancacheStats(): Record<string, number> {
  return { ...requireCleancacheStats() };
}

/**
 * Under `gcma selftest` (lib/selftest.ts) the suites run on a machine whose
 * gcma_test the user loaded: they use it as it is, loading and unloading
 * nothing of it.
 */
export const SELFTEST = process.env['GCMA_SELFTEST'] === '1';

export function insmod(ko: string, ...params: string[]): void {
  if (SELFTEST && basename(ko) === 'gcma_test.ko') {
    if (params.length) throw new Error(`gcma selftest: the suite wants gcma_test loaded with ${params.join(' ')}, but it uses the one loaded`);
    return;
  }
  execFileSync('insmod', [ko, ...params]);
}

export function rmmod(name: string): void {
  if (SELFTEST && name === 'gcma_test') return;
  execFileSync('rmmod', [name]);
}

export { dropCaches };

function meminfoBytes(field: string): number {
  const kib = meminfoKiB(field);
  if (kib === null) throw new Error(`no ${field} in /proc/meminfo`);
  return kib * 1024;
}

/**
 * A counter of /proc/vmstat. Throws when the kernel has no such counter:
 * without CONFIG_VM_EVENT_COUNTERS the events (pgmigrate_success,
 * oom_kill) are missing, and reading them as 0 made checks that could not fail.
 */
export function vmstat(field: string): number {
  const n = vmstatCounter(field);
  if (n === null) throw new Error(`/proc/vmstat has no ${field} (CONFIG_VM_EVENT_COUNTERS?)`);
  return n;
}

export function memAvailableBytes(): number {
  return meminfoBytes('MemAvailable');
}

export function memTotalBytes(): number {
  return meminfoBytes('MemTotal');
}

export function cmaFreeBytes(): number {
  return meminfoBytes('CmaFree');
}

/** Pages of the GCMA area the VM suites share (128 MiB). */
export const AREA_PAGES = 32768;

/** Pages of every GCMA area registered so far (other suites add their own): cleancache's capacity. */
export function gcmaCapacityPages(): number {
  const dir = '/sys/kernel/mm/gcma';
  return readdirSync(dir).reduce((sum, area) => sum + Number(readFileSync(join(dir, area, 'size'), 'utf8')), 0);
}

/** Register the suites' GCMA area once per boot; it outlives the module. */
export function ensureArea(): void {
  if (existsSync('/sys/kernel/mm/gcma/gcma_test')) return;
  if (SELFTEST) {
    // The machine's own areas (gcma selftest requires a guaranteed CMA area)
    if (gcmaCapacityPages() > 0) return;
    throw new Error('no GCMA area: cleancache has nowhere to keep copies (boot with gcma=NAME:SIZE)');
  }
  insmod(TEST_MODULE, `area_pages=${AREA_PAGES}`);
  rmmod('gcma_test');
}

/**
 * A child process holding this much anonymous memory, every page written:
 * the guest has no swap, so reclaim cannot take it and the page cache has
 * that much less room. The OOM killer picks it first. Resolves once the
 * memory is in place; kill it to give the memory back.
 */
export function holdAnonMemory(bytes: number): Promise<ChildProcess> {
  const script = `
    require('node:fs').writeFileSync('/proc/self/oom_score_adj', '1000');
    const b = Buffer.allocUnsafe(${Math.floor(bytes)});
    for (let i = 0; i < b.length; i += 4096) b[i] = 1;
    process.stdout.write('held');
    setInterval(() => b[0]++, 1 << 30);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code, signal) => reject(new Error(`the memory holder ended before holding ${bytes} bytes (${code ?? signal})`)));
  });
}

/**
 * Write each page's offset into a dma-buf through one mapping, read it back
 * through another, with DMA_BUF_IOCTL_SYNC around each: the mapping's
 * length and the pages that did not read back.
 */
export function writeReadBack(buf: DmaBuf): { mapped: number; bad: number } {
  const view = buf.map();
  buf.sync({ write: true });
  for (let i = 0; i < buf.size; i += 4096) view.writeUInt32LE(i, i);
  buf.sync({ write: true, end: true });
  const mapped = view.length;
  buf.unmap();
  const again = buf.map();
  buf.sync({ read: true });
  let bad = 0;
  for (let i = 0; i < buf.size; i += 4096) if (again.readUInt32LE(i) !== i) bad++;
  buf.sync({ read: true, end: true });
  return { mapped, bad };
}
