/**
 * Runs inside the QEMU guest: data integrity under churn. Two ext4
 * filesystems at once, one with 4 KiB blocks and one with 1 KiB blocks (a
 * page then has several buffer heads, and writes smaller than a page leave
 * folios that are not uptodate), more file data than memory (so cleancache
 * stores and restores), while another process allocates and frees ranges
 * as fast as it can, from the GCMA area and from the guaranteed CMA area
 * (cma_alloc() and dma_alloc_coherent()), so cleancache must give pages
 * back mid-use. fio writes with
 * crc32c verification headers and verifies after the page cache was dropped;
 * overwrites after eviction, O_DIRECT overwrites of cached data,
 * unmount/remount, truncate and extend, hole punch; stress-ng's verifying
 * file stressor. Zero verification errors, and the counters must show that
 * cleancache stored, restored and recalled.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { mountExt4, mountScratch, unmount } from '../../lib/scratch';
import { requireCleancacheStats, type CleancacheStats } from '../../lib/stats';
import { dropCaches, ensureArea, insmod, readCounters, rmmod, TEST_MODULE } from './support/guest';
import { chunkData, MiB, verifyChunks, writeChunks } from './support/pattern';
import { scaled } from './support/scale';

jest.setTimeout(900_000);

const disks = (process.env['GCMA_INTEGRITY_DISKS'] ?? '').split(':').filter(Boolean);
const mounts = ['/mnt/integrity0', '/mnt/integrity1'];
const blockSizes = [4096, 1024];
/**
 * Per filesystem. make test: 2 x 16 MiB, evicted to cleancache by
 * drop_caches between write and verify. make soak: 2 x 256 MiB, well over
 * what the page cache can hold (~300 MiB available on the debug kernel), so
 * reclaim evicts them too.
 */
const FILE_MIB = scaled(16, 256);
/** The truncate/extend/punch pattern file, in MiB. */
const PATTERN_MIB = scaled(16, 64);
const STRESS_S = scaled(6, 120);
/** How often the churn takes the whole area. */
const BIG_EVERY_MS = 5000;
let churn: ChildProcess;
/**
 * Alloc/free pairs of the churn that succeeded: the GCMA area's and the
 * guaranteed CMA area's, and of each whole; null until the churn has ended.
 */
let churnOps: { gcma: number; cma: number; wholeGcma: number; wholeCma: number } | null = null;
let before: CleancacheStats;
/** The guaranteed CMA area's cleancache pool (gcma=guaranteed:32M, test/run.ts) */
const GUARANTEED_POOL = '/sys/kernel/mm/cleancache/guaranteed';
let guaranteedBefore: Record<string, number>;
let verifiedBytes = 0;

function mount(i: number): void {
  mountExt4(disks[i]!, mounts[i]!);
}

function umount(i: number): void {
  unmount(mounts[i]!);
}

interface FioResult {
  status: number | null;
  errors: number;
  readBytes: number;
  writeBytes: number;
  output: string;
}

/** fio over both filesystems at once: one job per directory. */
function fio(args: readonly string[]): FioResult {
  const jobs = mounts.flatMap((dir, i) => [`--name=fs${i}`, `--directory=${dir}`, '--filename=data']);
  // --thread: the guest kernel has no SysV shared memory for fio's processes
  const r = spawnSync('fio', ['--output-format=json', '--thread', '--ioengine=psync', '--bs=64k', `--size=${FILE_MIB}M`, '--verify=crc32c', ...args, ...jobs], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  let errors = 0;
  let readBytes = 0;
  let writeBytes = 0;
  try {
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: Array<{ error: number; read: { io_bytes: number }; write: { io_bytes: number } }> };
    for (const j of json.jobs) {
      errors += j.error ? 1 : 0;
      readBytes += j.read.io_bytes;
      writeBytes += j.write.io_bytes;
    }
  } catch {
    errors++;
  }
  return { status: r.status, errors, readBytes, writeBytes, output: `${r.stdout.slice(-2000)}\n${r.stderr}` };
}

function write(seed: number, extra: readonly string[] = []): void {
  const r = fio(['--rw=write', '--do_verify=0', `--randseed=${seed}`, '--end_fsync=1', ...extra]);
  expect({ status: r.status, errors: r.errors, output: r.status ? r.output : '' }).toEqual({ status: 0, errors: 0, output: '' });
  expect(r.writeBytes).toBe(2 * FILE_MIB * MiB);
}

/** Read everything back and check every block's crc32c and seed. */
function verify(seed: number): void {
  const r = fio(['--rw=read', '--verify_only', `--randseed=${seed}`]);
  expect({ status: r.status, errors: r.errors, output: r.status ? r.output : '' }).toEqual({ status: 0, errors: 0, output: '' });
  verifiedBytes += 2 * FILE_MIB * MiB;
}

beforeAll(() => {
  if (disks.length !== 2) throw new Error('GCMA_INTEGRITY_DISKS must name two disks (the test command attaches them)');
  ensureArea();
  insmod(TEST_MODULE);
  for (const [i, d] of disks.entries()) {
    mountScratch(d, mounts[i]!, { blockSize: blockSizes[i]! });
  }
  // Allocate and free ranges as fast as possible, all along, in turn from
  // the GCMA area and (through cma_alloc() and dma_alloc_coherent()) from
  // the guaranteed CMA area. Small ranges find pages that hold no copy
  // while the files are small (make test); each area whole, taken every
  // BIG_EVERY_MS, cannot: cleancache must give every copy back, and
  // between those copies live long enough to be restored.
  const script = `
    const { Device } = require(${JSON.stringify(join(projectRoot(), 'dist', 'lib', 'index.js'))});
    const dev = Device.open();
    const areas = { gcma: dev.area('gcma_test'), cma: dev.cmaAreas().find((a) => a.backing === 'cma+gcma') };
    if (!areas.cma) throw new Error('no guaranteed CMA area');
    const sizes = [1, 16, 256, 4096];
    // Counted: alloc/free pairs that succeeded, and those of a whole area.
    const ops = { gcma: 0, cma: 0, wholeGcma: 0, wholeCma: 0 }, lastBig = { gcma: Date.now(), cma: Date.now() };
    let stop = false;
    process.on('SIGTERM', () => { stop = true; });
    const size = (k, i) => {
      if (Date.now() - lastBig[k] < ${BIG_EVERY_MS}) return sizes[(i >> 1) % sizes.length];
      lastBig[k] = Date.now();
      return areas[k].pages;
    };
    (async () => {
      for (let i = 0; !stop; i++) {
        const k = i % 2 ? 'cma' : 'gcma';
        const opts = k === 'cma' && i % 4 === 1 ? { dma: true } : {};
        const pages = size(k, i);
        try {
          const a = await areas[k].allocAsync(pages, opts);
          await a.freeAsync();
          ops[k]++;
          if (pages === areas[k].pages) ops[k === 'cma' ? 'wholeCma' : 'wholeGcma']++;
        } catch (e) { if (e.code !== 'ENOMEM' && e.code !== 'EBUSY') throw e; }
      }
      dev.close();
      process.stdout.write(JSON.stringify(ops));
    })();`;
  churn = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  churn.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  churn.once('close', () => {
    if (out) churnOps = JSON.parse(out) as NonNullable<typeof churnOps>;
  });
  before = requireCleancacheStats();
  guaranteedBefore = readCounters(GUARANTEED_POOL);
});

afterAll(async () => {
  if (churn && churn.exitCode === null) {
    const done = new Promise((r) => churn.once('close', r));
    churn.kill('SIGTERM');
    await done;
  }
  for (const m of mounts) {
    try {
      unmount(m);
    } catch {
      // not mounted: a test failed before mounting it again
    }
  }
  rmmod('gcma_test');
});

it('fio: written data verifies after the page cache was dropped', () => {
  write(1);
  dropCaches();
  verify(1);
});

it('fio: overwrite after eviction, then verify the new data', () => {
  dropCaches();
  write(2);
  dropCaches();
  verify(2);
});

it('fio: O_DIRECT overwrite of cached data, buffered verify', () => {
  verify(2); // caches it: page cache and cleancache
  write(3, ['--direct=1']);
  verify(3);
  dropCaches();
  verify(3);
});

it('fio: unmount and remount between write and verify', () => {
  write(4);
  umount(0);
  umount(1);
  mount(0);
  mount(1);
  verify(4);
});

it('truncate and extend, hole punch: zeroes where the data was, never old data', () => {
  const file = join(mounts[0]!, 'pattern');
  const chunks = PATTERN_MIB;
  closeSync(openSync(file, 'w'));
  writeChunks(file, 7, 0, chunks);
  dropCaches();
  // Truncate into the middle, extend back: the tail must read as zeroes
  execFileSync('truncate', ['-s', `${(chunks / 2) * MiB + 1000}`, file]);
  execFileSync('truncate', ['-s', `${chunks * MiB}`, file]);
  // Punch a hole at the start
  execFileSync('fallocate', ['--punch-hole', '--offset', '0', '--length', `${4 * MiB}`, file]);
  dropCaches();
  const zero = Buffer.alloc(MiB);
  const expected = (c: number): Buffer => {
    if (c < 4) return zero;
    if (c < chunks / 2) return chunkData(7, c);
    if (c === chunks / 2) return Buffer.concat([chunkData(7, c).subarray(0, 1000), zero.subarray(1000)]);
    return zero;
  };
  expect(verifyChunks(file, 0, chunks, expected)).toEqual([]);
  verifiedBytes += chunks * MiB;
});

it('stress-ng: verifying file stressors on both filesystems', () => {
  const r = spawnSync(
    'stress-ng',
    ['--hdd', '2', '--hdd-bytes', '128M', '--hdd-opts', 'wr-seq,rd-seq', '--verify', '--temp-path', mounts[1]!, '--timeout', `${STRESS_S}s`, '--metrics-brief'],
    { encoding: 'utf8', cwd: mounts[1]! },
  );
  const out = r.stdout + r.stderr;
  expect({ status: r.status, failures: out.split('\n').filter((l) => /^stress-ng: fail:/.test(l)) }).toEqual({ status: 0, failures: [] });
  expect(out).toContain('successful run completed');
});

it('exercised cleancache: stores, restores and recalls; the churn ran', async () => {
  const d = requireCleancacheStats();
  const delta = {
    stored: d.stored - before.stored,
    restored: d.restored - before.restored,
    recalled: d.recalled - before.recalled,
    invalidated: d.invalidated - before.invalidated,
  };
  const guaranteedRecalled = readCounters(GUARANTEED_POOL)['recalled']! - guaranteedBefore['recalled']!;
  const done = new Promise((r) => churn.once('close', r));
  churn.kill('SIGTERM');
  await done;
  console.log(
    `integrity: ${(verifiedBytes / MiB).toFixed(0)} MiB verified, churn ${churnOps?.gcma} GCMA (${churnOps?.wholeGcma} whole) and ` +
      `${churnOps?.cma} guaranteed CMA (${churnOps?.wholeCma} whole) alloc/free pairs, ` +
      `cleancache ${JSON.stringify(delta)}, ${guaranteedRecalled} recalled by the guaranteed CMA area`,
  );
  expect(churnOps).not.toBeNull();
  for (const [kind, pairs] of Object.entries(churnOps!)) expect({ kind, ran: pairs > 0 }).toEqual({ kind, ran: true });
  expect(delta.stored).toBeGreaterThan(0);
  expect(delta.restored).toBeGreaterThan(0);
  expect(delta.recalled).toBeGreaterThan(0);
  expect(guaranteedRecalled).toBeGreaterThan(0);
});
