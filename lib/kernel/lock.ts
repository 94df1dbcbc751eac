/**
 * One lock for the build cache ($GCMA_CACHE): every step that writes it
 * (kernel builds, the series check, which moves the shared source tree, and
 * module builds, which read it) holds the lock, so two runs on one machine
 * take turns instead of building over each other. flock(1) holds it on
 * behalf of this process: if the process dies, its pipe closes and the
 * kernel drops the lock, so a killed run leaves nothing stale behind.
 *
 * Reentrant within a process: the series check builds the kernel while it
 * holds the lock already.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../paths';

/** The lock file; the Makefile's module targets take the same one with flock(1). */
export function cacheLockPath(): string {
  return join(cacheRoot(), '.lock');
}

let holder: { child: ChildProcess; depth: number } | undefined;
let acquiring: Promise<void> | undefined;

/** Start flock(1) on the lock file; resolves once it holds the lock. */
function flock(path: string, wait: boolean): Promise<ChildProcess | undefined> {
  return new Promise((resolve, reject) => {
    // flock runs `cat` while it holds the lock: cat ends when our stdin
    // pipe closes, on release or when this process exits.
    const child = spawn('flock', [...(wait ? [] : ['-n']), '-x', path, 'sh', '-c', 'echo locked; exec cat'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (out.includes('locked\n')) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (out.includes('locked\n')) return;
      if (!wait && code === 1) resolve(undefined);
      else reject(new Error(`flock ${path} failed (exit ${code})`));
    });
  });
}

async function acquire(log: (msg: string) => void): Promise<void> {
  const path = cacheLockPath();
  mkdirSync(cacheRoot(), { recursive: true });
  let child = await flock(path, false);
  if (!child) {
    log(`[cache] ${cacheRoot()} is in use by another run: waiting for its lock (${path})`);
    const t0 = Date.now();
    child = await flock(path, true);
    if (!child) throw new Error(`flock ${path}: not held after waiting`);
    log(`[cache] got the lock after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  holder = { child, depth: 0 };
}

/** Run fn while holding the build cache's lock. */
export async function withCacheLock<T>(fn: () => Promise<T>, log: (msg: string) => void = console.log): Promise<T> {
  while (!holder) {
    if (!acquiring) {
      acquiring = acquire(log).finally(() => {
        acquiring = undefined;
      });
    }
    await acquiring;
  }
  const h = holder;
  h.depth++;
  try {
    return await fn();
  } finally {
    if (--h.depth === 0) {
      holder = undefined;
      // Wait until flock has let go, so a next acquisition does not find
      // this process's own lock still held.
      const exited = new Promise((resolve) => h.child.once('exit', resolve));
      h.child.stdin!.end();
      if (h.child.exitCode === null) await exited;
    }
  }
}
