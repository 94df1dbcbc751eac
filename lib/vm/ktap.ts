/**
 * KUnit results from the guest console: KTAP as the kernel prints it when
 * built-in suites run at boot (kunit.enable=1), and the suites and cases
 * the patch series defines, so that a missing case fails as loudly as a
 * failing one.
 */

export interface KunitCase {
  name: string;
  ok: boolean;
  skipped: boolean;
  /** The "# ..." lines KUnit printed for this case (expectation failures). */
  diagnostics: string[];
}

export interface KunitSuite {
  name: string;
  /** The suite's own result line; null when the console ended before it. */
  ok: boolean | null;
  planned: number | null;
  cases: KunitCase[];
}

const TIMESTAMP = /^\[\s*\d+\.\d+\] ?/;
const SUBTEST = /^ {4}# Subtest: (\S+)$/;
const SUITE_PLAN = /^ {4}1\.\.(\d+)$/;
const CASE = /^ {4}(not )?ok \d+ (\S+)(.*)$/;
const DIAGNOSTIC = /^ {4}(?:# )?(\S.*)$/;
const SUITE_RESULT = /^(not )?ok \d+ (\S+)/;

export function parseKunit(consoleText: string): KunitSuite[] {
  const suites: KunitSuite[] = [];
  let suite: KunitSuite | undefined;
  let pending: string[] = [];
  for (const raw of consoleText.split(/\r?\n/)) {
    const line = raw.replace(TIMESTAMP, '');
    let m: RegExpExecArray | null;
    if ((m = SUBTEST.exec(line))) {
      suite = { name: m[1]!, ok: null, planned: null, cases: [] };
      suites.push(suite);
      pending = [];
    } else if (!suite) {
      continue;
    } else if ((m = SUITE_PLAN.exec(line))) {
      suite.planned = Number(m[1]);
    } else if ((m = CASE.exec(line))) {
      suite.cases.push({ name: m[2]!, ok: !m[1], skipped: /#\s*SKIP/i.test(m[3] ?? ''), diagnostics: pending });
      pending = [];
    } else if ((m = DIAGNOSTIC.exec(line))) {
      pending.push(m[1]!);
    } else if ((m = SUITE_RESULT.exec(line)) && m[2] === suite.name) {
      suite.ok = !m[1];
      suite = undefined;
    }
  }
  return suites;
}

/**
 * Suites and their cases as the series adds them: every `*_kunit.c` file's
 * KUNIT_CASE() entries and the `.name` of its kunit_suite.
 */
export function seriesKunitCases(patches: readonly string[]): Map<string, string[]> {
  const suites = new Map<string, string[]>();
  for (const text of patches) {
    for (const file of text.split(/^diff --git /m).slice(1)) {
      if (!/^a\/\S+_kunit\.c /.test(file)) continue;
      const added = file
        .split('\n')
        .filter((l) => l.startsWith('+') && !l.startsWith('+++'))
        .map((l) => l.slice(1));
      const cases = added.flatMap((l) => /^\s*KUNIT_CASE\((\w+)\)/.exec(l)?.[1] ?? []);
      let inSuite = false;
      for (const l of added) {
        if (/^static struct kunit_suite \w+ = \{/.test(l)) inSuite = true;
        const name = inSuite ? /^\s*\.name = "([^"]+)"/.exec(l)?.[1] : undefined;
        if (name) {
          suites.set(name, cases);
          inSuite = false;
        }
      }
    }
  }
  return suites;
}

/** Every problem with a KUnit run: missing, failing or skipped suites and cases. */
export function kunitProblems(run: readonly KunitSuite[], expected: ReadonlyMap<string, readonly string[]>): string[] {
  const problems: string[] = [];
  for (const [name, cases] of expected) {
    const suite = run.find((s) => s.name === name);
    if (!suite) {
      problems.push(`suite ${name} did not run`);
      continue;
    }
    for (const c of cases) {
      const r = suite.cases.find((x) => x.name === c);
      if (!r) problems.push(`${name}.${c} did not run`);
      else if (r.skipped) problems.push(`${name}.${c} was skipped`);
      else if (!r.ok) problems.push(`${name}.${c} failed${r.diagnostics.length ? `:\n    ${r.diagnostics.join('\n    ')}` : ''}`);
    }
    if (suite.planned !== cases.length) problems.push(`suite ${name} planned ${suite.planned ?? 'no'} cases, the series defines ${cases.length}`);
    if (suite.ok !== true) problems.push(`suite ${name} ${suite.ok === null ? 'did not finish' : 'failed'}`);
  }
  return problems;
}
