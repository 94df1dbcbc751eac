/**
 * `gcma selftest` as on a device: one boot of the test kernel with a
 * default and a guaranteed CMA area, gcma_test loaded, and a disk. The
 * refusals come first (no module, not root, --disk without --yes-destroy,
 * a disk in use, a scratch directory not on ext4), each leaving the disk's
 * filesystem and its marker file as they were; then the suites run on an
 * ext4 directory (--scratch) and print TAP, every case ok.
 */
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { deviceBoot, type DeviceBoot } from '../support/device-boot';
import { listTap, parseTap, uapiTestProgram } from '../support/tap';

jest.setTimeout(900_000);

const root = projectRoot();
const resultsDir = join(root, 'results', 'test', 'boot', 'selftest');
const SCRIPT = `
rmmod gcma_test
run no-module $cli selftest
insmod "$KO"
run not-root setpriv --reuid=65534 --regid=65534 --clear-groups $cli selftest
run no-yes $cli selftest --disk /dev/vda
run in-use $cli selftest --disk /dev/vda --yes-destroy
mkdir -p /tmp/on-tmpfs
run tmpfs $cli selftest --scratch /tmp/on-tmpfs
run no-dir $cli selftest --scratch /nonesuch
run scratch $cli selftest --scratch /mnt/scratch
cat /mnt/scratch/marker > $r/marker
ls /mnt/scratch > $r/left
`;

let boot: DeviceBoot;
const status = (step: string): number | undefined => boot.status(step);
const out = (step: string): string => boot.file(`${step}.out`);
const err = (step: string): string => boot.file(`${step}.err`);

beforeAll(async () => {
  boot = await deviceBoot({ script: SCRIPT, resultsDir, cmdline: ['cma=64M', 'gcma=guaranteed:32M'], memoryMiB: 768, diskMiB: 256 });
});

it('refuses a machine it cannot test: no gcma_test loaded, or not root (exit 4)', () => {
  expect([status('no-module'), err('no-module')]).toEqual([4, expect.stringMatching(/^gcma selftest: .*: load gcma_test\.ko first \(insmod gcma_test\.ko\)\n$/)]);
  expect([status('not-root'), err('not-root')]).toEqual([4, 'gcma selftest: this needs root (the device is root-only; the suites drop caches)\n']);
});

it('destroys nothing it was not told to: a disk without --yes-destroy, a disk in use, a scratch directory not on ext4', () => {
  expect(status('no-yes')).toBe(2);
  expect(err('no-yes')).toContain('--disk /dev/vda: the suites make a new filesystem on it, destroying what it holds; add --yes-destroy to allow it');
  expect(status('in-use')).toBe(1);
  expect(err('in-use')).toContain('--disk /dev/vda is in use: /dev/vda on /mnt/scratch');
  expect(status('tmpfs')).toBe(1);
  expect(err('tmpfs')).toContain('--scratch /tmp/on-tmpfs is on tmpfs (/tmp): cleancache keeps ext4\'s pages, so the directory must be on ext4');
  expect([status('no-dir'), err('no-dir')]).toEqual([1, 'gcma: --scratch /nonesuch: no such directory\n']);
  // None of them printed a TAP line
  for (const n of ['no-yes', 'in-use', 'tmpfs']) expect(out(n)).toBe('');
  // The disk's filesystem is the one made for the test, its file there,
  // and the selftest's own file was removed
  expect(boot.file('marker')).toBe('kept\n');
  expect(boot.file('left')).toBe('lost+found\nmarker\n');
});

it('runs the device suites and cleancache on an ext4 directory, printing TAP: every case ok', () => {
  const tap = out('scratch');
  const parsed = parseTap(tap);
  expect({ status: status('scratch'), bailOut: parsed.bailOut, planned: parsed.planned }).toEqual({ status: 0, bailOut: null, planned: parsed.cases.length });
  expect(tap.split('\n').slice(0, 2)).toEqual(['TAP version 13', '# gcma selftest: device, model, cleancache-scope']);
  const names = parsed.cases.map((c) => c.name);
  // Each TAP case of the device's C program is a case here
  for (const c of listTap(uapiTestProgram(root), [])) expect(names).toContain(`device: ${c}`);
  expect(names).toContain('model: the kernel answers as the model does, on three threads at once');
  expect(names).toContain('cleancache-scope: stores an ext4 file as it leaves the page cache, and reads it back intact');
  // Only the runner's guest has a root no one caches: that case is skipped, said so
  expect(names).toContain('cleancache-scope: stores nothing from the 9p root or from tmpfs, and stores ext4 files # SKIP');
  expect(parsed.cases.filter((c) => !c.ok)).toEqual([]);
});
