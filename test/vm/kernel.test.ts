/** Runs inside the QEMU guest: is this the kernel the project built, booted as the runner promises? */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseKconfig } from '../../lib/kernel/config';
import { projectRoot } from '../../lib/paths';

const config = parseKconfig(gunzipSync(readFileSync('/proc/config.gz')).toString('utf8'));

it('is the patched kernel the host built, or was given', () => {
  expect(process.env['GCMA_KERNEL_RELEASE']).toBeDefined();
  expect(release()).toBe(process.env['GCMA_KERNEL_RELEASE']);
  // The series is for 6.12; a kernel built elsewhere names itself.
  expect(release()).toMatch(process.env['GCMA_EXTERNAL_KERNEL'] ? /^6\.12\.\d+/ : /^6\.12\.\d+-gcma(-debug)?$/);
});

/** What kernel/config/debug.config switches on, and only it. */
const DETECTORS = [
  'CONFIG_KASAN',
  'CONFIG_KFENCE',
  'CONFIG_DEBUG_VM',
  'CONFIG_DEBUG_LIST',
  'CONFIG_PAGE_POISONING',
  'CONFIG_DEBUG_PAGEALLOC',
  'CONFIG_PROVE_LOCKING',
  'CONFIG_DEBUG_ATOMIC_SLEEP',
  'CONFIG_MEM_ALLOC_PROFILING',
];

it('is the flavour the host asked for, with its bug detectors live', () => {
  const flavour = process.env['GCMA_KERNEL_FLAVOUR'];
  expect(['default', 'debug']).toContain(flavour);
  const on = DETECTORS.filter((o) => config.get(o) === 'y');
  if (flavour === 'default') {
    expect(on).toEqual([]);
    return;
  }
  expect(on).toEqual(DETECTORS);
  const dmesg = execFileSync('dmesg').toString('utf8');
  expect(dmesg).toContain('KernelAddressSanitizer initialized');
  expect(readFileSync('/sys/kernel/debug/kfence/stats', 'utf8')).toMatch(/^enabled: 1$/m);
  // lockdep turns itself off after its first report or when it runs out of
  // room: then it would stay silent for the rest of the run.
  expect(readFileSync('/proc/lockdep_stats', 'utf8')).toMatch(/^\s*debug_locks:\s+1$/m);
  expect(readFileSync('/proc/cmdline', 'utf8')).toMatch(/\bpage_poison=1\b/);
});

it('carries the project patch series (CONFIG_GCMA only exists with it)', () => {
  expect(config.get('CONFIG_GCMA')).toBe('y');
});

it('runs with panic_on_warn, so any WARN ends the run', () => {
  expect(readFileSync('/proc/sys/kernel/panic_on_warn', 'utf8').trim()).toBe('1');
  expect(readFileSync('/proc/cmdline', 'utf8')).toMatch(/\boops=panic\b/);
});

it('sees the host tree read-only and the results share writable', () => {
  expect(() => writeFileSync(join(projectRoot(), 'package.json'), 'x')).toThrow(/EROFS|read-only/);
  const results = process.env['GCMA_RESULTS'];
  expect(results).toBe('/run/gcma-results');
  writeFileSync(join(results!, 'written-by-guest'), 'ok\n');
  accessSync(join(results!, 'written-by-guest'), constants.R_OK);
});
