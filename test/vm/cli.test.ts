/**
 * Runs inside the QEMU guest: the gcma CLI's device commands against the
 * real device: tables and --json, sessions, and the exit statuses scripts
 * rely on (0 done, 2 usage, 3 refused, 4 no usable device).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { insmod, rmmod, TEST_MODULE } from './support/guest';

const root = projectRoot();
const cli = join(root, 'dist', 'lib', 'cli.js');
const AREA = `cli-${process.pid}`;

function gcma(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => insmod(TEST_MODULE));
afterAll(() => rmmod('gcma_test'));

it('registers an area and lists it, as a table and as JSON', () => {
  const reg = gcma(['register', AREA, '128', '--json']);
  expect(reg.status).toBe(0);
  expect(JSON.parse(reg.stdout)).toMatchObject({ target: 'gcma', name: AREA, pages: 128, allocated: 0 });
  const table = gcma(['areas']);
  expect(table.status).toBe(0);
  expect(table.stdout.split('\n')[0]).toMatch(/^TARGET\s+INDEX\s+NAME\s+BACKING\s+PFNS\s+PAGES\s+ALLOCATED\s+CACHED\s+ALLOCS\s+FAILS\s+OWNED$/);
  expect(table.stdout).toMatch(new RegExp(`^gcma\\s+\\d+\\s+${AREA}\\s+gcma\\s+0x[0-9a-f]+-0x[0-9a-f]+\\s+128\\s+0\\s`, 'm'));
  // Both CMA areas of the boot, and the GCMA area backing the guaranteed one
  expect(table.stdout).toMatch(/^cma\s+0\s+reserved \(default\)\s+cma\s+0x[0-9a-f]+-0x[0-9a-f]+\s+16384\s/m);
  expect(table.stdout).toMatch(/^cma\s+1\s+guaranteed\s+cma\+gcma\s+0x[0-9a-f]+-0x[0-9a-f]+\s+8192\s/m);
  expect(table.stdout).toMatch(/^gcma\s+0\s+guaranteed\s+cma\+gcma\s+0x[0-9a-f]+-0x[0-9a-f]+\s+8192\s/m);
  const json = JSON.parse(gcma(['areas', '--json']).stdout) as Array<{ target: string; name: string; backing: string; default: boolean }>;
  expect(json.filter((a) => a.target === 'cma').map((a) => [a.name, a.backing, a.default])).toEqual([
    ['reserved', 'cma', true],
    ['guaranteed', 'cma+gcma', false],
  ]);
});

it('allocates from any CMA area by name or index, through cma_alloc() or dma_alloc_coherent()', () => {
  const r = gcma(['alloc', 'cma:guaranteed', '4', '--dma', '--json']);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  expect(JSON.parse(r.stdout)).toMatchObject([{ area: 'guaranteed', pages: 4 }]);
  // The rest in one session: a node process costs seconds in the guest.
  const lines = ['cma', 'cma:0', 'cma:guaranteed', 'cma:1'].flatMap((a) => [`alloc ${a} 4`, `alloc ${a} 4 dma`]);
  // The GCMA side of a guaranteed area, DMA from a GCMA area, no such area: refused
  const refused = ['alloc guaranteed 4', `alloc ${AREA} 4 dma`, 'alloc cma:nonesuch 4'];
  const s = gcma(['session', '--json'], [...lines, ...refused].join('\n') + '\n');
  const replies = s.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; result?: { area: string; count: number }; error?: { name: string } });
  expect(replies.slice(0, lines.length).map((x) => [x.ok, x.result?.area, x.result?.count])).toEqual(
    lines.map((l) => [true, /cma(:0)? /.test(l) ? 'reserved' : 'guaranteed', 4]),
  );
  expect(replies.slice(lines.length).map((x) => x.error?.name)).toEqual(['NotSupportedError', 'NotSupportedError', 'NotFoundError']);
  expect(s.status).toBe(3);
});

it('allocates and frees, reporting kernel times, and leaves nothing behind', () => {
  const r = gcma(['alloc', AREA, '8', '--repeat', '3', '--json']);
  expect(r.status).toBe(0);
  const runs = JSON.parse(r.stdout) as Array<{ pages: number; allocNs: number; freeNs: number }>;
  expect(runs).toHaveLength(3);
  for (const x of runs) expect(x.allocNs > 0 && x.freeNs > 0 && x.pages === 8).toBe(true);
  const compound = gcma(['alloc', AREA, '16', '--compound']);
  expect(compound.status).toBe(0);
  expect(compound.stdout.split('\n')[0]).toMatch(/^AREA\s+PFNS\s+PAGES\s+ALLOC_US\s+FREE_US$/);
  const areas = JSON.parse(gcma(['areas', '--json']).stdout) as Array<{ name: string; allocated: number }>;
  expect(areas.find((a) => a.name === AREA)?.allocated).toBe(0);
});

it('keeps allocations across a session; free RANGE and free last', () => {
  const r = gcma(['session', '--json'], `alloc ${AREA} 8\nalloc ${AREA} 4 compound\nfree last\nstats\nfree 0x0-0x7\nbogus\n`);
  const replies = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; result?: { range?: string }; error?: { code: string } });
  expect(replies.map((x) => x.ok)).toEqual([true, true, true, true, false, false]);
  expect(replies[4]?.error?.code).toBe('EINVAL');
  expect(r.status).toBe(3);
  // The session's first allocation was freed when it ended.
  const areas = JSON.parse(gcma(['areas', '--json']).stdout) as Array<{ name: string; allocated: number }>;
  expect(areas.find((a) => a.name === AREA)?.allocated).toBe(0);
});

it('exit statuses: 2 usage, 3 refused, 4 no device', () => {
  expect(gcma(['alloc', AREA]).status).toBe(2);
  expect(gcma(['alloc', AREA, 'many']).status).toBe(2);
  const full = gcma(['alloc', AREA, '129']);
  expect(full.status).toBe(3);
  expect(full.stderr).toContain(`cannot allocate 129 pages anywhere in GCMA area "${AREA}": ENOMEM`);
  expect(gcma(['register', AREA, '1']).status).toBe(3);
  expect(gcma(['alloc', 'no-such-area', '1']).status).toBe(3);
  const missing = gcma(['areas', '--device', '/dev/no-gcma']);
  expect(missing.status).toBe(4);
  expect(missing.stderr).toContain('insmod');
});
