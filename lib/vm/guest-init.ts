/**
 * The guest's PID 1 (guest-init.c), compiled static on first use and kept
 * in the build cache under the hash of its source, so every checkout and
 * every run of the same source shares one binary.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, projectRoot } from '../paths';
import { capture } from '../util/exec';

/** The init binary for this checkout's guest-init.c, built if missing. */
export async function guestInit(): Promise<string> {
  const src = join(projectRoot(), 'lib', 'vm', 'guest-init.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 16);
  const dir = join(cacheRoot(), 'guest-init');
  const bin = join(dir, `init-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  // Built aside and renamed: runs side by side may build it at once
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    await capture('cc', ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, src]);
    renameSync(tmp, bin);
  } finally {
    rmSync(tmp, { force: true });
  }
  return bin;
}
