/**
 * Counters from sysfs (see kernel/README.md): cleancache's system-wide
 * ones (/sys/kernel/mm/cleancache) and each CMA area's (/sys/kernel/mm/cma).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backing } from './device';

/** Folios, counted since boot; `cached` is the number held now. */
export interface CleancacheStats {
  /** Clean folios stored when they left the page cache. */
  stored: number;
  /** Stores that could not be made (no backend folio, or no memory for the index). */
  skipped: number;
  /** Reads served from cleancache. */
  restored: number;
  /** Reads that found no copy. */
  missed: number;
  /** Copies dropped to make room for new ones. */
  reclaimed: number;
  /** Copies dropped because the backend took its folio back (GCMA allocations). */
  recalled: number;
  /** Copies dropped because the file changed or went away. */
  invalidated: number;
  /** Copies held now. */
  cached: number;
}

const FIELDS = ['stored', 'skipped', 'restored', 'missed', 'reclaimed', 'recalled', 'invalidated', 'cached'] as const;

/** The counters, or null when the kernel has no cleancache. */
export function cleancacheStats(dir = '/sys/kernel/mm/cleancache'): CleancacheStats | null {
  if (!existsSync(dir)) return null;
  const out = {} as CleancacheStats;
  for (const f of FIELDS) out[f] = Number(readFileSync(join(dir, f), 'utf8').trim());
  return out;
}

/** The counters; throws when the kernel has no cleancache. */
export function requireCleancacheStats(dir = '/sys/kernel/mm/cleancache'): CleancacheStats {
  const s = cleancacheStats(dir);
  if (!s) throw new Error(`this kernel has no cleancache (${dir})`);
  return s;
}

const WORKINGSET_ONLY = '/sys/module/cleancache/parameters/workingset_only';

/**
 * Cleancache's store policy (boot parameter cleancache.workingset_only):
 * true when only folios of a working set are stored (the default), false
 * when every clean folio is; with a value, set it first (root). null when
 * the kernel has no such parameter.
 */
export function cleancacheWorkingsetOnly(value?: boolean): boolean | null {
  if (!existsSync(WORKINGSET_ONLY)) return null;
  if (value !== undefined) writeFileSync(WORKINGSET_ONLY, value ? 'Y' : 'N');
  return readFileSync(WORKINGSET_ONLY, 'utf8').trim() === 'Y';
}

/** A CMA area as /sys/kernel/mm/cma/<name> shows it (CONFIG_CMA_SYSFS). */
export interface CmaAreaStats {
  /** Its name in /sys/kernel/mm/cma. */
  name: string;
  /** `cma+gcma` when the `gcma` file says 1 (a guaranteed area), else `cma`. */
  backing: Exclude<Backing, 'gcma'>;
  /** Pages, from the backing GCMA area or debugfs; null when neither is readable. */
  pages: number | null;
  /** Pages cma_alloc() handed out since boot (alloc_pages_success). */
  allocPagesSuccess: number;
  /** Pages of failed cma_alloc() calls (alloc_pages_fail). */
  allocPagesFail: number;
  /** Pages cma_release() took back (release_pages_success). */
  releasePagesSuccess: number;
}

function readNumber(path: string): number | null {
  return existsSync(path) ? Number(readFileSync(path, 'utf8').trim()) : null;
}

/**
 * Every CMA area, by name (the test device numbers them otherwise); []
 * without CMA sysfs. A counter file missing from an area's directory throws:
 * read as 0, it made checks that could not fail.
 */
export function cmaAreaStats(dir = '/sys/kernel/mm/cma', gcmaDir = '/sys/kernel/mm/gcma', debugDir = '/sys/kernel/debug/cma'): CmaAreaStats[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const at = (f: string): number => {
        const n = readNumber(join(dir, name, f));
        if (n === null) throw new Error(`no ${join(dir, name, f)}`);
        return n;
      };
      const guaranteed = readNumber(join(dir, name, 'gcma')) === 1;
      return {
        name,
        backing: guaranteed ? 'cma+gcma' : 'cma',
        pages: (guaranteed ? readNumber(join(gcmaDir, name, 'size')) : null) ?? readNumber(join(debugDir, name, 'count')),
        allocPagesSuccess: at('alloc_pages_success'),
        allocPagesFail: at('alloc_pages_fail'),
        releasePagesSuccess: at('release_pages_success'),
      };
    });
}
