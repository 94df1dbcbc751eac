/**
 * The series check moves the cached source tree to each prefix of the
 * series and back. A checkout gives every file it rewrites a new mtime, so
 * make would then rebuild everything that includes, say, include/linux/fs.h
 * in every flavour's build. Before moving away, the check records the
 * mtime and content hash of each file the series touches; afterwards each
 * file whose content is the same again gets its old mtime back. A file
 * whose content differs keeps its new mtime, so nothing stale survives,
 * even when a check was interrupted and the series changed since.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Recorded {
  mtimeMs: number;
  sha256: string;
}

function recordFile(sourceDir: string): string {
  return join(sourceDir, '.git', 'gcma-prefix-mtimes.json');
}

function hash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Record the files (paths relative to sourceDir) as they are now. Entries
 * left by an interrupted check are kept: they hold the older times.
 */
export function recordMtimes(sourceDir: string, files: readonly string[]): void {
  const path = recordFile(sourceDir);
  const record: Record<string, Recorded> = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, Recorded>) : {};
  for (const f of files) {
    const full = join(sourceDir, f);
    if (record[f] || !existsSync(full)) continue;
    record[f] = { mtimeMs: statSync(full).mtimeMs, sha256: hash(full) };
  }
  writeFileSync(path, JSON.stringify(record, null, 1));
}

/** Put back the recorded mtime of every file whose content matches; forget the record. Returns how many. */
export function restoreMtimes(sourceDir: string): number {
  const path = recordFile(sourceDir);
  if (!existsSync(path)) return 0;
  const record = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Recorded>;
  let restored = 0;
  for (const [f, r] of Object.entries(record)) {
    const full = join(sourceDir, f);
    if (!existsSync(full) || hash(full) !== r.sha256) continue;
    const t = r.mtimeMs / 1000;
    utimesSync(full, t, t);
    restored++;
  }
  rmSync(path);
  return restored;
}
