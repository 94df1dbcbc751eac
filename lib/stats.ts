/** Cleancache's system-wide counters, from /sys/kernel/mm/cleancache (see kernel/README.md). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
