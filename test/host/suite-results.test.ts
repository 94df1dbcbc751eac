/**
 * make test's accounting (test/support/suite-results.ts) with real jest
 * runs: the listing collects a suite's tests without running them, the
 * reporter's events carry each file's result, and a listed test with no
 * result (the run died before it) counts as failed, in the summary and in
 * the JSON and JUnit reports.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssertionResult } from '@jest/test-result';
import { projectRoot } from '../../lib/paths';
import { exec } from '../../lib/util/exec';
import { collect, jestArgs, listTests, readEvents, writeReports, type SuiteEvent } from '../support/suite-results';

jest.setTimeout(120_000);

const root = projectRoot();
// Two small, pure host suites stand in for any suite.
const files = ['errors', 'pfn-range'].map((n) => join(root, 'dist', 'test', 'host', `${n}.test.js`));
let dir: string;
let listed: Map<string, AssertionResult[]>;
let events: SuiteEvent[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gcma-results-'));
  listed = await listTests(root, ['host'], join(dir, 'list.jsonl'), files);
  const file = join(dir, 'run.jsonl');
  await exec('node', jestArgs(root, 'host', files), { cwd: root, env: { ...process.env, GCMA_TEST_EVENTS: file }, logFile: join(dir, 'run.log') });
  events = readEvents(file);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const count = (m: ReadonlyMap<string, AssertionResult[]>): number => [...m.values()].reduce((n, t) => n + t.length, 0);

it('lists every test of the files without running any', () => {
  expect([...listed.keys()].sort()).toEqual([...files].sort());
  for (const tests of listed.values()) {
    expect(tests.length).toBeGreaterThan(5);
    expect(new Set(tests.map((t) => t.status))).toEqual(new Set(['pending']));
  }
});

it('a run that finished: every listed test has its result, none is missing', () => {
  const c = collect(listed, events, 'unused');
  expect(c.notRun).toBe(0);
  expect(c.interrupted).toBeUndefined();
  expect(c.results.numPassedTests).toBe(count(listed));
  expect(c.results.numFailedTests).toBe(0);
  expect(c.results.success).toBe(true);
});

it('a run that died in its second file: that file and any after it count as failed, with the reason', () => {
  const second = events.filter((e) => e.event === 'result')[1]!.path;
  // What the events file holds when the process dies while the second file runs.
  const cut = events.filter((e) => !(e.event === 'result' && e.path === second));
  const c = collect(listed, cut, 'the VM failed (kernel-report)');
  const secondTests = listed.get(second)!.length;
  expect(c.notRun).toBe(secondTests);
  expect(c.interrupted).toBe(second);
  expect(c.results.numFailedTests).toBe(secondTests);
  expect(c.results.numPassedTests).toBe(count(listed) - secondTests);
  expect(c.results.success).toBe(false);
  const lost = c.results.testResults.find((r) => r.testFilePath === second)!;
  expect(lost.testResults[0]!.failureMessages).toEqual(['did not run: it was running when the VM failed (kernel-report)']);
});

it('a run that died before it started: everything failed, "did not run"', () => {
  const c = collect(listed, [], 'the VM did not boot');
  expect(c.notRun).toBe(count(listed));
  expect(c.results.numFailedTests).toBe(count(listed));
  expect(c.interrupted).toBeUndefined();
});

it('a file that failed to load: its listed tests count as failed', () => {
  const [first] = files;
  const broken = events.map((e) =>
    e.event === 'result' && e.path === first
      ? { ...e, result: { ...e.result, testResults: [], numPassingTests: 0, testExecError: { message: 'Cannot find module x', stack: '' } } }
      : e,
  );
  const c = collect(listed, broken, 'unused');
  expect(c.notRun).toBe(listed.get(first!)!.length);
  expect(c.results.numFailedTests).toBe(listed.get(first!)!.length);
});

it('a file that does not load is listed as one test, which counts as failed', async () => {
  const broken = join(root, 'dist', 'test', 'host', 'zz-broken.test.js');
  writeFileSync(broken, "require('./no-such-module');\n");
  // Its source must exist, or jest.config.js ignores it as stale.
  const source = join(root, 'test', 'host', 'zz-broken.test.ts');
  writeFileSync(source, '');
  try {
    const l = await listTests(root, ['host'], join(dir, 'broken.jsonl'), [broken]);
    expect(l.get(broken)!.map((t) => t.fullName)).toEqual(['dist/test/host/zz-broken.test.js loads']);
    const file = join(dir, 'broken-run.jsonl');
    await exec('node', jestArgs(root, 'host', [broken]), { cwd: root, env: { ...process.env, GCMA_TEST_EVENTS: file }, logFile: join(dir, 'broken.log') }).catch(() => undefined);
    const c = collect(l, readEvents(file), 'unused');
    expect({ failed: c.results.numFailedTests, notRun: c.notRun }).toEqual({ failed: 1, notRun: 1 });
  } finally {
    rmSync(broken, { force: true });
    rmSync(source, { force: true });
  }
});

it('writes JSON and JUnit reports that count the tests that did not run', async () => {
  const second = events.filter((e) => e.event === 'result')[1]!.path;
  const c = collect(listed, events.filter((e) => !(e.event === 'result' && e.path === second)), 'the VM failed');
  await writeReports(c.results, dir, 'vm');
  const json = JSON.parse(readFileSync(join(dir, 'vm.json'), 'utf8')) as { numFailedTests: number; numPassedTests: number };
  expect(json).toMatchObject({ numFailedTests: c.results.numFailedTests, numPassedTests: c.results.numPassedTests });
  const xml = readFileSync(join(dir, 'vm.xml'), 'utf8');
  expect(xml).toMatch(new RegExp(`<testsuites [^>]*tests="${count(listed)}" failures="${c.results.numFailedTests}"`));
  expect((xml.match(/did not run: it was running when the VM failed/g) ?? []).length).toBe(listed.get(second)!.length);
  // The total time is the run's, from its first file's start, not since 1970.
  const total = Number(/<testsuites [^>]*time="([\d.]+)"/.exec(xml)?.[1]);
  expect(total).toBeGreaterThan(0);
  expect(total).toBeLessThan(600);
});

it('a stale compiled test (its source is gone) is ignored by every jest project', () => {
  const stale = join(root, 'dist', 'test', 'host', 'zz-stale.test.js');
  writeFileSync(stale, "it('is stale', () => { throw new Error('stale test ran'); });\n");
  try {
    const configPath = join(root, 'jest.config.js');
    delete require.cache[require.resolve(configPath)];
    const config = require(configPath) as { projects: Array<{ testPathIgnorePatterns: string[] }> };
    for (const p of config.projects) {
      expect(p.testPathIgnorePatterns.some((re) => new RegExp(re).test(stale))).toBe(true);
      expect(p.testPathIgnorePatterns.some((re) => new RegExp(re).test(files[0]!))).toBe(false);
    }
  } finally {
    rmSync(stale, { force: true });
  }
});
