/**
 * The build cache's lock (lib/kernel/lock.ts), with real processes and
 * flock(1): two runs that use one cache take turns; a run killed while it
 * holds the lock does not leave it held; nested use in one process does
 * not deadlock.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';

jest.setTimeout(60_000);

const lockJs = join(projectRoot(), 'dist', 'lib', 'kernel', 'lock.js');
let cache: string;

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'gcma-lock-'));
});

afterEach(() => {
  rmSync(cache, { recursive: true, force: true });
});

/**
 * A child that, holding the lock (or not, for the control), appends
 * "name start" and "name end" to the trace file with holdMs between, and
 * "name after" once the lock is let go (the process goes on after it).
 */
function child(name: string, opts: { locked: boolean; holdMs: number; nested?: boolean }): { done: Promise<number | null>; kill: () => void; started: Promise<void> } {
  const trace = join(cache, 'trace');
  const script = `
    const { appendFileSync } = require('node:fs');
    const { withCacheLock } = require(${JSON.stringify(lockJs)});
    const work = async () => {
      appendFileSync(${JSON.stringify(trace)}, '${name} start\\n');
      console.log('started');
      await new Promise((r) => setTimeout(r, ${opts.holdMs}));
      appendFileSync(${JSON.stringify(trace)}, '${name} end\\n');
    };
    const locked = (fn) => withCacheLock(fn, (m) => console.error(m));
    (${opts.locked} ? locked(${opts.nested ? '() => locked(work)' : 'work'}) : work()).then(() => {
      appendFileSync(${JSON.stringify(trace)}, '${name} after\\n');
      process.exit(0);
    });`;
  const p = spawn(process.execPath, ['-e', script], { env: { ...process.env, GCMA_CACHE: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const started = new Promise<void>((resolve) =>
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('started')) resolve();
    }),
  );
  const done = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
  return { done, started, kill: () => p.kill('SIGKILL') };
}

function trace(): string[] {
  return readFileSync(join(cache, 'trace'), 'utf8').trim().split('\n');
}

/** Whether any two start..end intervals in the trace overlap. */
function overlapped(lines: readonly string[]): boolean {
  let open = 0;
  for (const l of lines) {
    if (l.endsWith(' after')) continue;
    open += l.endsWith(' start') ? 1 : -1;
    if (open > 1) return true;
  }
  return false;
}

it('without the lock the two runs overlap (control for the check below)', async () => {
  const a = child('a', { locked: false, holdMs: 1500 });
  const b = child('b', { locked: false, holdMs: 1500 });
  expect(await Promise.all([a.done, b.done])).toEqual([0, 0]);
  expect(overlapped(trace())).toBe(true);
});

it('two runs holding the lock take turns', async () => {
  const a = child('a', { locked: true, holdMs: 1500 });
  await a.started;
  const b = child('b', { locked: true, holdMs: 200 });
  expect(await Promise.all([a.done, b.done])).toEqual([0, 0]);
  // "a after" is written once a has let the lock go, so b may start first.
  const lines = trace();
  expect(lines.filter((l) => !l.endsWith(' after'))).toEqual(['a start', 'a end', 'b start', 'b end']);
  expect(lines.indexOf('a after')).toBeGreaterThan(lines.indexOf('a end'));
  expect(lines.indexOf('b after')).toBeGreaterThan(lines.indexOf('b end'));
});

it('a run killed while holding the lock releases it', async () => {
  const a = child('a', { locked: true, holdMs: 60_000 });
  await a.started;
  a.kill();
  await a.done;
  const b = child('b', { locked: true, holdMs: 10 });
  expect(await b.done).toBe(0);
  expect(trace()).toEqual(['a start', 'b start', 'b end', 'b after']);
});

it('is reentrant within a process', async () => {
  const a = child('a', { locked: true, holdMs: 10, nested: true });
  expect(await a.done).toBe(0);
  expect(trace()).toEqual(['a start', 'a end', 'a after']);
});
