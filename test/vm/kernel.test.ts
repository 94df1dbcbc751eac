/** Runs inside the QEMU guest: is this the kernel the project built, booted as the runner promises? */
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseKconfig } from '../../lib/kernel/config';
import { projectRoot } from '../../lib/paths';

const config = parseKconfig(gunzipSync(readFileSync('/proc/config.gz')).toString('utf8'));

it('is the patched kernel the host built', () => {
  expect(process.env['GCMA_KERNEL_RELEASE']).toBeDefined();
  expect(release()).toBe(process.env['GCMA_KERNEL_RELEASE']);
  expect(release()).toMatch(/^6\.12\.\d+-gcma$/);
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
