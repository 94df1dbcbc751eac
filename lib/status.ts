/** What this kernel has of GCMA, read from /proc and /sys (in the guest or on a device). */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { parseKconfig } from './kernel/config';
import { meminfoKiB } from './procfs';
import { cmaAreaStats, type CmaAreaStats } from './stats';

export interface GcmaStatus {
  release: string;
  /** Values from /proc/config.gz; null when the kernel does not expose its config. */
  config: Record<'CONFIG_GCMA' | 'CONFIG_CLEANCACHE' | 'CONFIG_CMA', string> | null;
  gcmaSysfs: boolean;
  cleancacheSysfs: boolean;
  cmaTotalKiB: number | null;
  cmaFreeKiB: number | null;
  /** The CMA areas and their backing, from /sys/kernel/mm/cma. */
  cmaAreas: CmaAreaStats[];
  testModuleLoaded: boolean;
}

export function readStatus(): GcmaStatus {
  let config: GcmaStatus['config'] = null;
  if (existsSync('/proc/config.gz')) {
    const values = parseKconfig(gunzipSync(readFileSync('/proc/config.gz')).toString('utf8'));
    const get = (k: string): string => values.get(k) ?? 'n';
    config = { CONFIG_GCMA: get('CONFIG_GCMA'), CONFIG_CLEANCACHE: get('CONFIG_CLEANCACHE'), CONFIG_CMA: get('CONFIG_CMA') };
  }
  return {
    release: release(),
    config,
    gcmaSysfs: existsSync('/sys/kernel/mm/gcma'),
    cleancacheSysfs: existsSync('/sys/kernel/mm/cleancache'),
    cmaTotalKiB: meminfoKiB('CmaTotal'),
    cmaFreeKiB: meminfoKiB('CmaFree'),
    cmaAreas: cmaAreaStats(),
    testModuleLoaded: existsSync('/sys/module/gcma_test'),
  };
}

export function formatStatus(s: GcmaStatus): string {
  const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
  const kib = (n: number | null): string => (n === null ? 'n/a' : `${(n / 1024).toFixed(1)} MiB`);
  const rows: Array<[string, string]> = [
    ['kernel', s.release],
    ['CONFIG_GCMA', s.config?.CONFIG_GCMA ?? 'unknown (no /proc/config.gz)'],
    ['CONFIG_CLEANCACHE', s.config?.CONFIG_CLEANCACHE ?? 'unknown'],
    ['CONFIG_CMA', s.config?.CONFIG_CMA ?? 'unknown'],
    ['/sys/kernel/mm/gcma', yesNo(s.gcmaSysfs)],
    ['/sys/kernel/mm/cleancache', yesNo(s.cleancacheSysfs)],
    ['CMA total / free', `${kib(s.cmaTotalKiB)} / ${kib(s.cmaFreeKiB)}`],
    ...s.cmaAreas.map((a): [string, string] => [
      `CMA area ${a.name}`,
      `${a.backing}${a.pages === null ? '' : `, ${a.pages} pages`}; pages allocated ${a.allocPagesSuccess} / failed ${a.allocPagesFail} / released ${a.releasePagesSuccess}`,
    ]),
    ['gcma_test module', s.testModuleLoaded ? 'loaded' : 'not loaded'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
