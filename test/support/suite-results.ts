/**
 * Test results that stay honest when a run dies half way (make test):
 *
 *   1. before a jest run, list every test it should run: jest with a name
 *      pattern that matches nothing collects each file's tests and reports
 *      them skipped, without running a hook or a test;
 *   2. during the run, test/support/results-reporter.ts appends each file's
 *      result as it comes;
 *   3. afterwards, every listed test without a result counts as failed,
 *      with the reason (the VM died, the file did not load, ...).
 *
 * The JSON (jest's --json shape) and JUnit XML reports are written from
 * that merged result, so they count the tests that never ran too.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  addResult,
  createEmptyTestResult,
  formatTestResults,
  makeEmptyAggregatedTestResult,
  type AggregatedResult,
  type AssertionResult,
  type TestResult,
} from '@jest/test-result';
import { exec } from '../../lib/util/exec';

/** What test/support/results-reporter.ts appends, a line each. */
export type SuiteEvent = { event: 'start'; path: string; time: number } | { event: 'result'; path: string; result: TestResult };

/** The jest projects of jest.config.js. */
export type Project = 'host' | 'boot' | 'vm';

/** Matches no test name: jest collects the tests and runs none. */
const NO_TEST = '(?!)';

export function jestBin(root: string): string {
  return join(root, 'node_modules', 'jest', 'bin', 'jest.js');
}

export function reporterPath(root: string): string {
  return join(root, 'dist', 'test', 'support', 'results-reporter.js');
}

/**
 * jest's arguments for a run of some files of some projects, reporting to
 * the events file. Boot suites run two at a time unless `inBand` (a boot
 * keeps about one of the two cores busy under TCG: boot tests 4 min 4 s
 * so, 5 min 20 s in band, when nothing else runs).
 */
export function jestArgs(root: string, projects: Project | readonly Project[], files: readonly string[] = [], inBand = false): string[] {
  return [
    jestBin(root),
    '--selectProjects',
    ...(typeof projects === 'string' ? [projects] : projects),
    ...(projects === 'boot' && !inBand ? ['--maxWorkers=2'] : ['--runInBand']),
    '--reporters',
    'default',
    '--reporters',
    reporterPath(root),
    ...(files.length ? ['--runTestsByPath', ...files] : []),
  ];
}

export function readEvents(file: string): SuiteEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SuiteEvent);
}

/** Every test of some projects (or of some of their files), by file, without running any. */
export async function listTests(root: string, projects: readonly Project[], events: string, files: readonly string[] = []): Promise<Map<string, AssertionResult[]>> {
  rmSync(events, { force: true });
  await exec('node', [...jestArgs(root, projects, files), '--testNamePattern', NO_TEST, '--silent'], {
    cwd: root,
    env: { ...process.env, GCMA_TEST_EVENTS: events },
    logFile: `${events}.log`,
  }).catch(() => undefined); // a file that does not load shows below
  const listed = new Map<string, AssertionResult[]>();
  for (const e of readEvents(events)) {
    if (e.event !== 'result') continue;
    // A file that does not load has no tests to list: it stands as one
    // test of its own, which its run will fail.
    listed.set(e.path, e.result.testExecError ? [loads(relative(root, e.path))] : e.result.testResults);
  }
  if (listed.size === 0) throw new Error(`jest listed no ${projects.join('/')} tests (log: ${events}.log)`);
  return listed;
}

/** The stand-in test of a file that could not be loaded to list its tests. */
function loads(file: string): AssertionResult {
  const title = `${file} loads`;
  return { ancestorTitles: [], failureDetails: [], failureMessages: [], fullName: title, numPassingAsserts: 0, status: 'pending', title };
}

function notRun(t: AssertionResult, why: string): AssertionResult {
  return { ...t, status: 'failed', duration: 0, failureMessages: [`did not run: ${why}`], failureDetails: [] };
}

function recount(r: TestResult): TestResult {
  const n = (s: string): number => r.testResults.filter((t) => t.status === s).length;
  return { ...r, numPassingTests: n('passed'), numFailingTests: n('failed'), numPendingTests: n('pending') + n('skipped'), numTodoTests: n('todo') };
}

export interface Collected {
  results: AggregatedResult;
  /** Listed tests that never ran, counted as failed. */
  notRun: number;
  /** The file that had started and not finished when the run ended. */
  interrupted?: string;
}

/**
 * Merge the listing with the results the run reported: a listed test with
 * no result failed, "did not run" and why.
 */
export function collect(listed: ReadonlyMap<string, AssertionResult[]>, events: readonly SuiteEvent[], why: string): Collected {
  const results = makeEmptyAggregatedTestResult();
  const reported = new Map<string, TestResult>();
  const started = new Map<string, number>();
  for (const e of events) {
    if (e.event === 'start') started.set(e.path, e.time);
    else reported.set(e.path, e.result);
  }
  let missing = 0;
  let interrupted: string | undefined;
  for (const [path, tests] of listed) {
    const r = reported.get(path);
    if (r) {
      const have = new Set(r.testResults.map((t) => t.fullName));
      const reason = r.testExecError ? `the file failed to run (${r.testExecError.message})` : why;
      const lost = tests.filter((t) => !have.has(t.fullName)).map((t) => notRun(t, reason));
      missing += lost.length;
      addResult(results, recount({ ...r, testResults: [...r.testResults, ...lost] }));
      continue;
    }
    const t0 = started.get(path);
    if (t0 !== undefined) interrupted = path;
    const reason = t0 !== undefined ? `it was running when ${why}` : why;
    const empty = createEmptyTestResult();
    missing += tests.length;
    addResult(
      results,
      recount({
        ...empty,
        testFilePath: path,
        perfStats: { ...empty.perfStats, start: t0 ?? 0, end: t0 ?? 0 },
        testResults: tests.map((t) => notRun(t, reason)),
        failureMessage: `did not run: ${reason}`,
      }),
    );
  }
  for (const [path, r] of reported) if (!listed.has(path)) addResult(results, recount(r));
  results.success = results.numFailedTests === 0 && results.numRuntimeErrorTestSuites === 0;
  // The run's start, for the reports' total time: its first file's.
  const starts = results.testResults.map((r) => r.perfStats.start).filter((t) => t > 0);
  results.startTime = starts.length ? Math.min(...starts) : Date.now();
  return { results, notRun: missing, ...(interrupted ? { interrupted } : {}) };
}

/** name.json (jest's --json shape) and name.xml (JUnit, by jest-junit) in dir. */
export async function writeReports(results: AggregatedResult, dir: string, name: string): Promise<void> {
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(formatTestResults(results), null, 2));
  process.env['JEST_JUNIT_OUTPUT_FILE'] = join(dir, `${name}.xml`);
  process.env['JEST_JUNIT_SUITE_NAME'] = `${name}: {filepath}`;
  // jest-junit called with a results object is its testResultsProcessor form.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest-junit has no types
  const junit = require('jest-junit') as (r: AggregatedResult) => Promise<unknown>;
  await junit(results);
}

/** Seconds a file's tests took (jest's own start/end stamps). */
export function fileSeconds(r: TestResult): number {
  return r.perfStats.end > r.perfStats.start ? (r.perfStats.end - r.perfStats.start) / 1000 : 0;
}
