/**
 * The benchmark's background load, as child processes of the guest-side
 * runner: file readers (page cache, hence cleancache), anonymous memory
 * churn, writeback (dirty pages under I/O) and direct I/O (user pages
 * pinned while the I/O runs): what fills a CMA area with pages that are
 * slow to migrate, and what fills a GCMA area with cached file data.
 *
 * `node workers.js read SECONDS LIMIT FILE...` prints
 * {"bytes":N,"seconds":S,"warmupBytes":W} (LIMIT 0: all of the files).
 * `node workers.js churn MIB` allocates and touches MIB of memory, forever.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 1024 * 1024;

/**
 * Read the files round-robin, sequentially, for `seconds`; bytes read.
 * With `limit`, only their first `limit` bytes in all (a working set),
 * read once before the timing starts so that it measures the steady state.
 */
export function readFiles(files: readonly string[], seconds: number, limit = 0): { bytes: number; seconds: number; warmupBytes: number } {
  const buf = Buffer.allocUnsafe(CHUNK);
  let deadline = 0n;
  /** One pass over the files (or the working set); false once the deadline passed. */
  const pass = (count: (n: number) => void): boolean => {
    let left = limit || Infinity;
    for (const f of files) {
      const fd = openSync(f, 'r');
      try {
        for (let n; left > 0 && (n = readSync(fd, buf, 0, Math.min(CHUNK, left), null)) > 0; ) {
          count(n);
          left -= n;
          if (deadline && process.hrtime.bigint() >= deadline) return false;
        }
      } finally {
        closeSync(fd);
      }
      if (left <= 0) break;
    }
    return true;
  };
  let warmupBytes = 0;
  if (limit) pass((n) => (warmupBytes += n));
  const start = process.hrtime.bigint();
  deadline = start + BigInt(Math.round(seconds * 1e9));
  let bytes = 0;
  while (pass((n) => (bytes += n)));
  return { bytes, seconds: Number(process.hrtime.bigint() - start) / 1e9, warmupBytes };
}

/** Allocate and touch `mib` MiB in 4 MiB pieces, drop them, again, forever. */
function churn(mib: number): never {
  for (;;) {
    const held: Buffer[] = [];
    for (let i = 0; i < mib / 4; i++) held.push(Buffer.alloc(4 * CHUNK, i & 0xff));
    held.length = 0;
    (globalThis as { gc?: () => void }).gc?.();
  }
}

export interface Load {
  stop(): Promise<void>;
}

function start(cmd: string, args: readonly string[]): ChildProcess {
  return spawn(cmd, args, { stdio: 'ignore', detached: true });
}

/**
 * Start the pressure: `readers` file readers over `files`, churn of
 * `churnMiB`, a writeback loop and a direct-I/O loop in `dir`.
 */
export function startLoad(opts: { files: readonly string[]; dir: string; readers: number; churnMiB: number }): Load {
  const self = __filename;
  const procs: ChildProcess[] = [];
  for (let i = 0; i < opts.readers; i++) {
    const rotated = [...opts.files.slice(i), ...opts.files.slice(0, i)];
    procs.push(start(process.execPath, [self, 'read', '1000000', '0', ...rotated]));
  }
  procs.push(start(process.execPath, ['--expose-gc', self, 'churn', String(opts.churnMiB)]));
  // Dirty pages under writeback, again and again
  procs.push(start('sh', ['-c', `while :; do dd if=/dev/zero of=${opts.dir}/writeback bs=1M count=32 conv=fdatasync status=none; done`]));
  // User pages pinned for the duration of each direct read
  procs.push(start('sh', ['-c', `while :; do dd if=${opts.files[0]} of=/dev/null bs=4M iflag=direct status=none; done`]));
  return {
    async stop() {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.signalCode !== null) return resolve();
              p.once('exit', () => resolve());
              try {
                process.kill(-p.pid!, 'SIGKILL');
              } catch {
                resolve();
              }
            }),
        ),
      );
    },
  };
}

if (require.main === module) {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'read') {
    const [seconds, limit, ...files] = args;
    console.log(JSON.stringify(readFiles(files, Number(seconds), Number(limit))));
  } else if (mode === 'churn') {
    churn(Number(args[0]));
  } else {
    console.error('usage: workers.js read SECONDS LIMIT FILE... | churn MIB');
    process.exit(2);
  }
}
