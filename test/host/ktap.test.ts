import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { kunitProblems, parseKunit, seriesKunitCases } from '../../lib/vm/ktap';

const run = `[    2.100000] KTAP version 1
[    2.100100] 1..2
[    2.100200]     KTAP version 1
[    2.100300]     # Subtest: cleancache
[    2.100400]     # module: cleancache_kunit
[    2.100500]     1..2
[    2.101000]     ok 1 test_backend_api
[    2.102000]     # test_store_restore: EXPECTATION FAILED at mm/cleancache_kunit.c:170
[    2.102000]     Expected restore(test, a, 3, 0xa3) to be true, but is false
[    2.102500]     not ok 2 test_store_restore
[    2.103000] # cleancache: pass:1 fail:1 skip:0 total:2
[    2.103100] # Totals: pass:1 fail:1 skip:0 total:2
[    2.103200] not ok 1 cleancache
[    2.200000]     KTAP version 1
[    2.200100]     # Subtest: gcma
[    2.200200]     1..2
[    2.201000]     ok 1 test_alloc_free
[    2.202000]     ok 2 test_compound # SKIP no memory
[    2.203000] ok 2 gcma`;

describe('parseKunit', () => {
  it('reads suites, plans, case results, skips and the diagnostics of failures', () => {
    const suites = parseKunit(run);
    expect(suites.map((s) => [s.name, s.ok, s.planned, s.cases.length])).toEqual([
      ['cleancache', false, 2, 2],
      ['gcma', true, 2, 2],
    ]);
    const failed = suites[0]!.cases[1]!;
    expect(failed).toMatchObject({ name: 'test_store_restore', ok: false, skipped: false });
    expect(failed.diagnostics[0]).toContain('EXPECTATION FAILED at mm/cleancache_kunit.c:170');
    expect(suites[1]!.cases[1]).toMatchObject({ name: 'test_compound', ok: true, skipped: true });
  });

  it('finds nothing in a console without KUnit output', () => {
    expect(parseKunit('[    0.0] Linux version 6.12\n[    1.0] ok 1 something')).toEqual([]);
  });
});

describe('kunitProblems', () => {
  const expected = new Map([
    ['cleancache', ['test_backend_api', 'test_store_restore']],
    ['gcma', ['test_alloc_free', 'test_compound', 'test_zeroed']],
    ['absent', ['x']],
  ]);

  it('reports failing, skipped and missing cases and suites', () => {
    const problems = kunitProblems(parseKunit(run), expected);
    expect(problems).toEqual([
      expect.stringMatching(/^cleancache\.test_store_restore failed:\n {4}test_store_restore: EXPECTATION FAILED at \S+\n {4}Expected restore/),
      'suite cleancache failed',
      'gcma.test_compound was skipped',
      'gcma.test_zeroed did not run',
      'suite gcma planned 2 cases, the series defines 3',
      'suite absent did not run',
    ]);
  });

  it('passes a clean run', () => {
    const ok = run.replace('not ok 2 test_store_restore', 'ok 2 test_store_restore').replace('not ok 1 cleancache', 'ok 1 cleancache');
    const clean = parseKunit(ok.replace(' # SKIP no memory', ''));
    expect(kunitProblems(clean, new Map([['cleancache', ['test_backend_api', 'test_store_restore']], ['gcma', ['test_alloc_free', 'test_compound']]]))).toEqual([]);
  });
});

describe('seriesKunitCases', () => {
  it('lists the suites and cases the patch series adds', () => {
    const dir = join(projectRoot(), 'kernel', 'patches');
    const suites = seriesKunitCases(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')));
    expect([...suites.keys()].sort()).toEqual(['cleancache', 'cma_gcma', 'gcma']);
    expect(suites.get('cleancache')).toContain('test_backend_api');
    expect(suites.get('gcma')).toContain('test_free_restores_refcounts');
    expect(suites.get('cma_gcma')).toContain('test_release_refused');
    for (const cases of suites.values()) expect(cases.length).toBeGreaterThan(3);
    // Added by a later patch (0015) to the file 0006 made
    expect(suites.get('gcma')).toContain('test_android_failed_alloc');
  });

  it('counts the cases a later patch adds to a suite or takes away', () => {
    const patch = (body: string): string => `diff --git a/mm/tests/x_kunit.c b/mm/tests/x_kunit.c\n--- a/mm/tests/x_kunit.c\n+++ b/mm/tests/x_kunit.c\n${body}`;
    const first = patch('+\tKUNIT_CASE(test_a),\n+\tKUNIT_CASE(test_b),\n+static struct kunit_suite x_suite = {\n+\t.name = "x",\n');
    const later = patch(' \tKUNIT_CASE(test_a),\n-\tKUNIT_CASE(test_b),\n+\tKUNIT_CASE(test_c),\n');
    expect(seriesKunitCases([first, later]).get('x')).toEqual(['test_a', 'test_c']);
    // Another file's patch changes nothing of it
    expect(seriesKunitCases([first, later.replaceAll('x_kunit', 'y_kunit')]).get('x')).toEqual(['test_a', 'test_b']);
  });
});
