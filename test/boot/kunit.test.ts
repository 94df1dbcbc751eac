/**
 * The series' KUnit suites, built into the patched kernel, run at boot
 * (kunit.enable=1) under panic_on_warn; their KTAP output on the console
 * must show every case the series defines, passed, and no kernel report
 * but the one gcma.test_bad_page provokes. On the test kernel
 * (debug flavour), so they run under KASAN, lockdep and page poisoning.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { kunitProblems, parseKunit, seriesKunitCases } from '../../lib/vm/ktap';
import { runInVm } from '../../lib/vm/runner';
import { SMALL_GUEST_MIB, testKernel } from '../support/test-kernel';

jest.setTimeout(600_000);

// gcma.test_bad_page frees a page in a bad state on purpose: the page
// allocator's report of it is the one report these boots expect.
const BAD_PAGE_REPORT = /BUG: Bad page state in process kunit_try_catch /;

// init_on_free changes what the page allocator zeroes for GCMA: pages must
// come out zeroed after cleancache wrote file data into them either way.
// The debug kernel's built-in page_poison=1 would take precedence over
// init_on_free: that boot turns it off.
it.each([
  ['', [], 'heap free:off'],
  [' with init_on_free=1', ['page_poison=0', 'init_on_free=1'], 'heap free:on'],
])('runs every KUnit case of the series, and all pass%s', async (name, extra, autoInit) => {
  const root = projectRoot();
  const kernel = await testKernel();
  const r = await runInVm({
    bzImage: kernel.bzImage,
    command: ['true'],
    cwd: root,
    cmdline: ['kunit.enable=1', ...extra],
    memoryMiB: SMALL_GUEST_MIB,
    resultsDir: join(root, 'results', 'test', 'boot', `kunit-${kernel.flavour}${extra.length ? '-init-on-free' : ''}`),
    output: () => undefined,
    expectedReports: [BAD_PAGE_REPORT],
  });
  expect(r.exitCode).toBe(0);
  expect(r.expectedReports).toHaveLength(1);

  const dir = join(root, 'kernel', 'patches');
  const expected = seriesKunitCases(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')));
  const consoleText = readFileSync(r.consoleLog, 'utf8');
  expect(consoleText).toMatch(new RegExp(`mem auto-init: .*${autoInit}`));
  const suites = parseKunit(consoleText);
  expect(kunitProblems(suites, expected)).toEqual([]);
  const cases = suites.reduce((n, s) => n + s.cases.length, 0);
  console.log(`KUnit (${kernel.release}${name}): ${suites.length} suites, ${cases} cases passed (${suites.map((s) => `${s.name} ${s.cases.length}`).join(', ')})`);
});
