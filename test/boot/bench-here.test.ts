/**
 * `gcma bench --here`, on a machine booted for it: the test kernel booted
 * as cmaParameters() asks, gcma_test loaded, run from inside. Refused first
 * when the areas differ from what --area asks for and when a disk is given
 * without --yes-destroy; then a short run on an ext4 directory: its report
 * says it ran without a VM, with this machine's memory, and the directory
 * and cleancache's store policy are left as they were found. No timing is
 * asserted (test/boot/bench.test.ts checks the report in full).
 */
import { join } from 'node:path';
import { cmaParameters, QUICK_OPTIONS } from '../../lib/bench/options';
import type { BenchReport } from '../../lib/bench/report';
import { projectRoot } from '../../lib/paths';
import { deviceBoot, type DeviceBoot } from '../support/device-boot';

jest.setTimeout(900_000);

const root = projectRoot();
const resultsDir = join(root, 'results', 'test', 'boot', 'bench-here');
const MEMORY_MIB = 512;
const SHORT = ['--quick', '--sizes', '1', '--reps', '1', '--rounds', '1', '--runs', '1', '--data', '64', '--duration', '1', '--heap-sizes', '1', '--heap-rounds', '1'];
const SCRIPT = `
echo N > /sys/module/cleancache/parameters/workingset_only
run other-area $cli bench --here --scratch /mnt/scratch --area 8 ${SHORT.join(' ')}
run no-yes $cli bench --here --disk /dev/vda ${SHORT.join(' ')}
run here $cli bench --here --scratch /mnt/scratch --results $r/report ${SHORT.join(' ')} --json
ls /mnt/scratch > $r/left
cat /sys/module/cleancache/parameters/workingset_only > $r/policy
`;

let boot: DeviceBoot;
const status = (step: string): number | undefined => boot.status(step);
const file = (name: string): string => boot.file(name);

beforeAll(async () => {
  boot = await deviceBoot({ script: SCRIPT, resultsDir, cmdline: cmaParameters(QUICK_OPTIONS), memoryMiB: MEMORY_MIB, diskMiB: 512 });
});

it('refuses a machine whose areas are not the ones --area asks for, saying what to boot with', () => {
  expect(status('other-area')).toBe(1);
  expect(file('other-area.err')).toBe(
    [
      'gcma: this machine is not booted for gcma bench --area 8:',
      '  the default CMA area (reserved) is 32 MiB, not 16 MiB',
      '  CMA area bench-guaranteed is guaranteed, 16 MiB; wanted guaranteed, 8 MiB',
      'boot it with cma=16M gcma=bench-guaranteed:8M',
      '',
    ].join('\n'),
  );
});

it('refuses a disk it was not told it may destroy', () => {
  expect(status('no-yes')).toBe(2);
  expect(file('no-yes.err')).toContain('--disk /dev/vda: the benchmark makes a new filesystem on it, destroying what it holds; add --yes-destroy to allow it');
});

it('runs on the machine itself: its memory, no VM, the scratch directory and the store policy as it found them', () => {
  expect(status('here')).toBe(0);
  const report = JSON.parse(file('here.out')) as BenchReport;
  expect(report.accel).toBe('none');
  // MemTotal is what the kernel has left of the guest's memory
  expect(report.options.memoryMiB).toBeGreaterThan(MEMORY_MIB / 2);
  expect(report.options.memoryMiB).toBeLessThanOrEqual(MEMORY_MIB);
  expect(report.results.filter((x) => x.phase === 'pressure' && x.allocator === 'gcma').map((x) => x.attempts)).toEqual([1]);
  expect(file('report/table.txt')).toContain('no VM');
  expect(file('left')).toBe('lost+found\nmarker\n');
  expect(file('policy')).toBe('N\n');
});
