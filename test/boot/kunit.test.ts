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
// allocator's report of it is the one report the boots running it expect.
const BAD_PAGE_REPORT = /BUG: Bad page state in process kunit_try_catch /;

// cma_gcma needs the GCMA-backed CMA area its boot declares, and that
// area's pool must be cleancache's only one: the cleancache and gcma suites
// count on their own pools alone. So it runs in a boot of its own, and the
// others leave it out (by its file's module attribute).
const CMA_GCMA_SUITE = 'cma_gcma';

interface KunitBoot {
  title: string;
  dir: string;
  cmdline: string[];
  /** The console's mem auto-init line: init_on_free on or off */
  autoInit: string;
  cmaGcma: boolean;
}

// init_on_free changes what the page allocator zeroes for GCMA: pages must
// come out zeroed after cleancache wrote file data into them either way.
// The debug kernel's built-in page_poison=1 would take precedence over
// init_on_free: that boot turns it off.
const BOOTS: KunitBoot[] = [
  { title: '', dir: '', cmdline: ['kunit.filter=module!=cma_gcma_kunit'], autoInit: 'heap free:off', cmaGcma: false },
  {
    title: ' with init_on_free=1',
    dir: '-init-on-free',
    cmdline: ['kunit.filter=module!=cma_gcma_kunit', 'page_poison=0', 'init_on_free=1'],
    autoInit: 'heap free:on',
    cmaGcma: false,
  },
  {
    title: ' on a GCMA-backed CMA area',
    dir: '-cma-gcma',
    cmdline: [`kunit.filter_glob=${CMA_GCMA_SUITE}`, 'gcma=cma-gcma-kunit:4M'],
    autoInit: 'heap free:off',
    cmaGcma: true,
  },
];

it.each(BOOTS)('runs every KUnit case of the series, and all pass$title', async (boot) => {
  const root = projectRoot();
  const kernel = await testKernel();
  const r = await runInVm({
    bzImage: kernel.bzImage,
    command: ['true'],
    cwd: root,
    cmdline: ['kunit.enable=1', ...boot.cmdline],
    memoryMiB: SMALL_GUEST_MIB,
    resultsDir: join(root, 'results', 'test', 'boot', `kunit-${kernel.flavour}${boot.dir}`),
    output: () => undefined,
    expectedReports: boot.cmaGcma ? [] : [BAD_PAGE_REPORT],
  });
  expect(r.exitCode).toBe(0);
  expect(r.expectedReports).toHaveLength(boot.cmaGcma ? 0 : 1);

  const dir = join(root, 'kernel', 'patches');
  const all = seriesKunitCases(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')));
  const expected = new Map([...all].filter(([suite]) => (suite === CMA_GCMA_SUITE) === boot.cmaGcma));
  expect(expected.size).toBeGreaterThan(0);
  const consoleText = readFileSync(r.consoleLog, 'utf8');
  expect(consoleText).toMatch(new RegExp(`mem auto-init: .*${boot.autoInit}`));
  const suites = parseKunit(consoleText);
  expect(kunitProblems(suites, expected)).toEqual([]);
  // Only the suites this boot is for ran
  expect(suites.map((s) => s.name).sort()).toEqual([...expected.keys()].sort());
  const cases = suites.reduce((n, s) => n + s.cases.length, 0);
  console.log(`KUnit (${kernel.release}${boot.title}): ${suites.length} suites, ${cases} cases passed (${suites.map((s) => `${s.name} ${s.cases.length}`).join(', ')})`);
});
