/**
 * Runs inside the guest: memory exhaustion while the areas are busy. A
 * memory hog (stress-ng --vm) takes the guest's memory (the OOM killer
 * acts, or MemAvailable is down to a few percent) while a reader keeps file data moving through cleancache and
 * part of the GCMA area stays allocated; then GCMA and CMA allocations run
 * for a while. Each one succeeds or fails with ENOMEM, nothing else; the
 * kernel neither hangs (jest's timeout) nor reports (the runner's console
 * scan and panic_on_warn); afterwards the area is back where it started.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Device, type Area } from '../../lib/device';
import { GcmaError } from '../../lib/errors';
import { mountScratch, unmount } from '../../lib/scratch';
import { requireCleancacheStats, type CleancacheStats } from '../../lib/stats';
import { cmaFreeBytes, ensureArea, insmod, memAvailableBytes, memTotalBytes, rmmod, TEST_MODULE, vmstat } from './support/guest';
import { scaled } from './support/scale';

jest.setTimeout(20 * 60_000);

const disk = process.env['GCMA_SCRATCH_DISK'];
const mnt = '/mnt/exhaustion';
const DATA_MIB = 192;
/** Pages of the area held for the whole test: the area is busy. */
const HELD_PAGES = 8192;
/**
 * The hog has the memory when the OOM killer acted, or when MemAvailable
 * without free CMA pages (which only movable allocations may use) is below
 * this share of MemTotal.
 */
const EXHAUSTED = 0.1;
const FILL_DEADLINE_MS = 4 * 60_000;
/** Allocations go on for this long, and until there were at least MIN_ATTEMPTS GCMA ones (a fourth as many CMA). */
const ALLOC_LOOP_MS = scaled(10_000, 120_000);
const MIN_ATTEMPTS = scaled(16, 64);
const GCMA_SIZES = [1, 16, 256, 4096];
const CMA_SIZES = [1, 16, 256];

let dev: Device;
let area: Area;
let reader: ChildProcess | undefined;
let hog: ChildProcess | undefined;

/** Children run in their own process group: stop them with all they started (cat holds the file). */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid) return;
  const group = -child.pid;
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    return; // gone already
  }
  for (;;) {
    try {
      process.kill(group, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
}

function oomKills(): number {
  return vmstat('oom_kill');
}


beforeAll(() => {
  if (!disk) throw new Error('GCMA_SCRATCH_DISK is not set: the test command attaches a scratch disk');
  // The hog, not jest, is what the OOM killer should pick.
  writeFileSync('/proc/self/oom_score_adj', '-1000');
  ensureArea();
  insmod(TEST_MODULE);
  dev = Device.open();
  area = dev.area('gcma_test');
  mountScratch(disk, mnt);
  // Contents do not matter to the page cache or cleancache; zeroes are
  // much faster to make than random bytes under TCG.
  execFileSync('dd', ['if=/dev/zero', `of=${mnt}/data`, 'bs=1M', `count=${DATA_MIB}`, 'status=none']);
  execFileSync('sync');
});

afterAll(async () => {
  await stop(hog);
  await stop(reader);
  dev?.close();
  unmount(mnt);
  rmmod('gcma_test');
});

interface Outcomes {
  ok: number;
  ENOMEM: number;
  /** Anything else: must stay empty. */
  other: string[];
}

function attempt(target: Area, pages: number, out: Outcomes): void {
  try {
    target.alloc(pages).free();
    out.ok++;
  } catch (err) {
    if (err instanceof GcmaError && err.code === 'ENOMEM') out.ENOMEM++;
    else out.other.push(`${target.name} ${pages} pages: ${err instanceof Error ? err.message : String(err)}`);
  }
}

it('allocations under memory exhaustion succeed or fail with ENOMEM, and the area is whole afterwards', async () => {
  const baseline = area.stats();
  const held = area.alloc(HELD_PAGES);
  const counters0: CleancacheStats = requireCleancacheStats();
  reader = spawn('sh', ['-c', `while :; do cat ${mnt}/data > /dev/null; done`], { stdio: 'ignore', detached: true });

  // Three workers of half of MemTotal each: one mapping larger than RAM is
  // refused by overcommit, smaller ones are not, and together they want
  // 150% of all memory, whatever the page cache holds when they start
  // (sized from MemAvailable, they did not always exhaust the guest).
  const total = memTotalBytes();
  const each = Math.floor((total * 0.5) / 4096) * 4096;
  // Children inherit jest's -1000: the hog must be the OOM killer's first pick.
  const hogArgs = ['--vm', '3', '--vm-bytes', String(each), '--vm-keep', '--vm-populate', '--timeout', '900s', '--temp-path', '/tmp'];
  hog = spawn('sh', ['-c', 'echo 1000 > /proc/self/oom_score_adj && exec stress-ng "$@"', 'hog', ...hogArgs], { cwd: '/tmp', stdio: 'ignore', detached: true });
  const oomKills0 = oomKills();
  const t0 = Date.now();
  const trail: string[] = [];
  let exhaustedBy = '';
  for (;;) {
    const avail = memAvailableBytes() - cmaFreeBytes();
    trail.push(`${Math.round((Date.now() - t0) / 1000)}s ${Math.round(avail / 2 ** 20)} MiB`);
    if (avail < total * EXHAUSTED) exhaustedBy = `MemAvailable - CmaFree ${Math.round(avail / 2 ** 20)} MiB`;
    else if (oomKills() > oomKills0) exhaustedBy = `${oomKills() - oomKills0} OOM kills`;
    if (exhaustedBy) break;
    if (hog.exitCode !== null || hog.signalCode !== null) throw new Error(`stress-ng ended early (${hog.exitCode ?? hog.signalCode}); MemAvailable - CmaFree: ${trail.slice(-20).join(', ')}`);
    if (Date.now() - t0 > FILL_DEADLINE_MS) {
      throw new Error(`no OOM kill, and MemAvailable - CmaFree never fell below ${EXHAUSTED * 100}% of ${Math.round(total / 2 ** 20)} MiB: ${trail.slice(-20).join(', ')}`);
    }
    await sleep(1000);
  }

  const gcma: Outcomes = { ok: 0, ENOMEM: 0, other: [] };
  const cma: Outcomes = { ok: 0, ENOMEM: 0, other: [] };
  const cmaArea = dev.cmaArea();
  let minAvail = Infinity;
  const loopStart = Date.now();
  for (let i = 0; i < MIN_ATTEMPTS || Date.now() - loopStart < ALLOC_LOOP_MS; i++) {
    attempt(area, GCMA_SIZES[i % GCMA_SIZES.length]!, gcma);
    if (i % 4 === 0) attempt(cmaArea, CMA_SIZES[(i / 4) % CMA_SIZES.length]!, cma);
    minAvail = Math.min(minAvail, memAvailableBytes() - cmaFreeBytes());
    // Let the hog and the reader run between attempts.
    if (i % 8 === 7) await sleep(10);
  }
  const loopMs = Date.now() - loopStart;
  // stress-ng restarts a worker the OOM killer took; the hog itself stays.
  const hogStillRunning = hog.exitCode === null && hog.signalCode === null;
  await stop(hog);
  await stop(reader);
  held.free();

  const c = requireCleancacheStats();
  console.log(
    [
      `exhaustion: after ${trail.length} s (${exhaustedBy}; MemTotal ${Math.round(total / 2 ** 20)} MiB), MemAvailable - CmaFree at least ${Math.round(minAvail / 2 ** 20)} MiB during ${(loopMs / 1000).toFixed(0)} s of allocations`,
      `  GCMA: ${gcma.ok} succeeded, ${gcma.ENOMEM} ENOMEM (sizes ${GCMA_SIZES.join('/')}, ${HELD_PAGES} pages held)`,
      `  CMA:  ${cma.ok} succeeded, ${cma.ENOMEM} ENOMEM (sizes ${CMA_SIZES.join('/')})`,
      `  cleancache meanwhile: stored ${c.stored - counters0.stored}, restored ${c.restored - counters0.restored}, recalled ${c.recalled - counters0.recalled}; OOM kills ${oomKills() - oomKills0}`,
    ].join('\n'),
  );

  expect([...gcma.other, ...cma.other]).toEqual([]);
  expect(hogStillRunning).toBe(true);
  // The area is reserved: cached pages are given back, so GCMA still finds room.
  expect(gcma.ok).toBeGreaterThan(0);
  expect(cma.ok + cma.ENOMEM).toBeGreaterThan(0);
  const after = area.stats();
  expect({ allocated: after.allocated, owned: after.owned }).toEqual({ allocated: baseline.allocated, owned: 0 });
});
