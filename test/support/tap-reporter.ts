/**
 * A jest reporter that prints TAP 13 on stdout (gcma selftest): one line a
 * test as each file ends, "suite: describe > test", the failure under it
 * as YAML, skipped tests as "# SKIP", a file that did not run as one
 * failing line; the plan comes last. Console output of the suites goes
 * out as "# " comments, after the lines the caller put in $GCMA_TAP_HEADER.
 */
import { basename } from 'node:path';
import type { AssertionResult, Test, TestResult } from '@jest/test-result';
import { TAP_HEADER_ENV } from '../../lib/selftest';

/** Escape sequences jest puts in its failure messages, for a terminal. */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function yamlBlock(text: string): string[] {
  return ['  ---', '  message: |', ...text.replace(ANSI, '').split('\n').map((l) => `    ${l}`), '  ...'];
}

class TapReporter {
  private n = 0;

  private print(lines: readonly string[]): void {
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  onRunStart(): void {
    // What the caller wants said first (gcma selftest: the suites it runs and leaves out)
    const header = process.env[TAP_HEADER_ENV];
    this.print(['TAP version 13', ...(header ? header.split('\n').map((l) => `# ${l}`) : [])]);
  }

  onTestFileResult(test: Test, result: TestResult): void {
    const suite = basename(test.path).replace(/\.test\.js$/, '');
    const out: string[] = [`# ${suite}`];
    for (const c of result.console ?? []) out.push(...c.message.split('\n').map((l) => `# ${l}`));
    if (result.testExecError) {
      out.push(`not ok ${++this.n} - ${suite}: the suite did not run`, ...yamlBlock(result.testExecError.message));
    }
    for (const t of result.testResults) out.push(...this.line(suite, t));
    this.print(out);
  }

  private line(suite: string, t: AssertionResult): string[] {
    const name = `${suite}: ${[...t.ancestorTitles, t.title].join(' > ')}`.replace(/#/g, '\\#');
    const n = ++this.n;
    if (t.status === 'passed') return [`ok ${n} - ${name}`];
    if (t.status === 'pending' || t.status === 'skipped' || t.status === 'todo') return [`ok ${n} - ${name} # SKIP`];
    return [`not ok ${n} - ${name}`, ...yamlBlock(t.failureMessages.join('\n'))];
  }

  onRunComplete(): void {
    this.print([`1..${this.n}`]);
  }

  getLastError(): void {
    return undefined;
  }
}

export = TapReporter;
