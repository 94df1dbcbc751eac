/**
 * The kernel's /proc files this project reads (one parser per format) and
 * drop_caches: for the CLI's status, the benchmark and the VM suites.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** The value of a `Field:   N kB` line (/proc/meminfo, smaps), in KiB. */
export function kibField(text: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/** A /proc/meminfo field in KiB; null when this kernel has none (CmaFree without CMA). */
export function meminfoKiB(field: string): number | null {
  return kibField(readFileSync('/proc/meminfo', 'utf8'), field);
}

/**
 * A /proc/vmstat counter; null when this kernel has none (its events,
 * pgmigrate_success and oom_kill among them, need CONFIG_VM_EVENT_COUNTERS).
 */
export function vmstatCounter(field: string): number | null {
  const m = new RegExp(`^${field} (\\d+)$`, 'm').exec(readFileSync('/proc/vmstat', 'utf8'));
  return m ? Number(m[1]) : null;
}

/**
 * Write back dirty data and drop the clean page cache, whose folios go to
 * cleancache, and unused inodes and dentries, whose copies stay.
 */
export function dropCaches(): void {
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3');
}
