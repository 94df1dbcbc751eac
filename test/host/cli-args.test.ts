/**
 * The gcma command line's arguments, on the host (nothing here reaches a
 * device, a kernel build or a VM): one parser for every command, each
 * command's own usage for --help and for a usage error (exit 2).
 * test/vm/cli.test.ts runs the commands against the device.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { formatRuns } from '../../lib/device-cli';
import { formatHeapAlloc } from '../../lib/heap-cli';
import { projectRoot } from '../../lib/paths';

const cli = join(projectRoot(), 'dist', 'lib', 'cli.js');

function gcma(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it.each([
  [['alloc', '--help'], 'gcma alloc AREA PAGES'],
  [['bench', '-h'], 'gcma bench [--quick]'],
  [['kernel', 'build', '--help'], 'gcma kernel build [--flavour'],
  [['kernel', 'check-series', '--help'], 'gcma kernel check-series'],
  [['vm', '--help'], 'gcma vm [--memory MiB]'],
  [['heap', 'alloc', '--help'], 'gcma heap alloc NAME SIZE'],
  [['status', '--help'], 'gcma status [--json]'],
  [['session', '--help'], 'gcma session [--json]'],
])('%j prints that command usage alone', (args, first) => {
  const r = gcma(...args);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  expect(r.stdout.split('\n').slice(0, 2)).toEqual(['usage:', expect.stringContaining(first)]);
  // Not the others'
  expect(r.stdout.match(/^ {2}gcma /gm)).toHaveLength(1);
});

it('prints every command for --help, and exits 2 with it for no command or an unknown one', () => {
  const all = gcma('--help');
  expect(all.status).toBe(0);
  for (const c of ['kernel build', 'kernel check-series', 'vm', 'status', 'areas', 'register', 'alloc', 'stats', 'heap list', 'heap alloc', 'bench', 'selftest', 'session']) {
    expect(all.stdout).toContain(`  gcma ${c} `.trimEnd());
  }
  expect(gcma().status).toBe(2);
  const unknown = gcma('frobnicate');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(/^gcma: unknown command 'frobnicate'\nusage:\n/);
});

it.each([
  [['alloc', 'x'], 'expected AREA PAGES', 'gcma alloc'],
  [['alloc', 'x', '1', '--repeat', '0'], "--repeat must be a positive integer, not '0'", 'gcma alloc'],
  [['alloc', 'x', '1', '--hold', 'soon'], "--hold needs a number of seconds, not 'soon'", 'gcma alloc'],
  [['areas', '--bogus'], "Unknown option '--bogus'", 'gcma areas'],
  [['status', 'extra'], 'expected no arguments', 'gcma status'],
  [['bench', '--reps', 'many'], "--reps must be a positive integer, not 'many'", 'gcma bench'],
  [['vm', '--memory', '256'], 'needs a command after --', 'gcma vm'],
  [['vm', 'echo', 'hi'], "unexpected 'echo': options first, then -- COMMAND", 'gcma vm'],
  [['vm', '--memory', 'lots', '--', 'true'], "--memory must be a positive integer, not 'lots'", 'gcma vm'],
  [['vm', '--accel', 'fast', '--', 'true'], '--accel must be auto, kvm or tcg', 'gcma vm'],
  [['kernel', 'build', '--flavour'], "Option '--flavour <value>' argument missing", 'gcma kernel build'],
  [['heap', 'alloc', 'system', 'big'], 'big', 'gcma heap alloc'],
  [['bench', '--here'], '--here needs --scratch DIR (on ext4) or --disk DEV --yes-destroy, one of them', 'gcma bench'],
  [['bench', '--here', '--disk', '/dev/null'], '--disk /dev/null: the benchmark makes a new filesystem on it, destroying what it holds; add --yes-destroy', 'gcma bench'],
  [['bench', '--here', '--scratch', '/tmp', '--memory', '512'], "--memory is the VM's: --here runs on this machine's kernel and memory", 'gcma bench'],
  [['bench', '--here', '--scratch', '/tmp', '--kernel', 'bzImage'], "--kernel is the VM's", 'gcma bench'],
  [['bench', '--scratch', '/tmp'], '--scratch goes with --here (the VM makes its own scratch disk)', 'gcma bench'],
  [['selftest', '--disk', '/dev/null'], '--disk /dev/null: the suites make a new filesystem on it, destroying what it holds; add --yes-destroy', 'gcma selftest'],
  [['selftest', '--scratch', '/tmp', '--disk', '/dev/null', '--yes-destroy'], '--scratch or --disk: one or the other', 'gcma selftest'],
  [['selftest', '--yes-destroy'], '--yes-destroy goes with --disk DEV', 'gcma selftest'],
])('%j: exit 2, the reason and that command usage', (args, reason, usage) => {
  const r = gcma(...args);
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
  const [first, u, ...rest] = r.stderr.split('\n');
  expect(first).toMatch(/^gcma: /);
  expect(first).toContain(reason);
  expect([u, rest[0]]).toEqual(['usage:', expect.stringContaining(usage)]);
  expect(r.stderr.match(/^ {2}gcma /gm)).toHaveLength(1);
});

it('refuses gcma selftest on a machine without the device, before any suite (exit 4)', () => {
  // The host running these tests never has gcma_test loaded: the VM and the boot tests do
  const r = gcma('selftest');
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 4, stdout: '' });
  expect(r.stderr).toMatch(/^gcma selftest: .*(\/dev\/gcma_test|root).*\n$/);
});

// A whole number of microseconds printed as 309, not 309.0, made the
// README's CLI output differ in shape from one run to the next
it('prints the time columns with their decimals always, right-aligned', () => {
  const runs = formatRuns([
    { area: 'a', range: '0x0-0x0', pages: 1, allocNs: 309_000, freeNs: 1_200 },
    { area: 'a', range: '0x0-0x0', pages: 1, allocNs: 12_345_600, freeNs: 80_000 },
  ]).split('\n');
  expect(runs).toEqual([
    'AREA  PFNS     PAGES  ALLOC_US  FREE_US',
    'a     0x0-0x0      1     309.0      1.2',
    'a     0x0-0x0      1   12345.6     80.0',
  ]);
  const heap = formatHeapAlloc({ heap: 'h', bytes: 4096, allocMs: 74, nonZeroBytes: 0, heldMs: 0 }).split('\n');
  expect(heap[1]).toMatch(/^h\s+4096\s+74\.000\s+0\s+0$/);
});
