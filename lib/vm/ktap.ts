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
 * KUNIT_CASE() entries and the `.name` of its kunit_suite. A later patch
 * to the file adds cases to its suite (or takes them away).
 */
export function seriesKunitCases(patches: readonly string[]): Map<string, string[]> {
  const suites = new Map<string, string[]>();
  const suiteOfFile = new Map<string, string>();
  const caseIn = (l: string): string[] => {
    const c = /^\s*KUNIT_CASE\((\w+)\)/.exec(l)?.[1];
    return c ? [c] : [];
  };
  for (const text of patches) {
    for (const file of text.split(/^diff --git /m).slice(1)) {
      const path = /^a\/(\S+_kunit\.c) /.exec(file)?.[1];
      if (!path) continue;
      const lines = file.split('\n');
      const changed = (sign: string): string[] => lines.filter((l) => l.startsWith(sign) && !l.startsWith(sign.repeat(3))).map((l) => l.slice(1));
      const added = changed('+');
      const cases = added.flatMap(caseIn);
      let inSuite = false;
      let defined: string | undefined;
      for (const l of added) {
        if (/^static struct kunit_suite \w+ = \{/.test(l)) inSuite = true;
        const name = inSuite ? /^\s*\.name = "([^"]+)"/.exec(l)?.[1] : undefined;
        if (name) {
          defined = name;
          inSuite = false;
        }
      }
      if (defined) {
        suites.set(defined, cases);
        suiteOfFile.set(path, defined);
        continue;
      }
      const suite = suiteOfFile.get(path);
      if (!suite) continue;
      const gone = new Set(changed('-').flatMap(caseIn));
      suites.set(suite, [...suites.get(suite)!.filter((c) => !gone.has(c)), ...cases]);
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
