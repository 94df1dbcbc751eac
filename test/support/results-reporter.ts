/**
 * A jest reporter that appends each test file's start and result to a file
 * as it happens, one JSON object a line (GCMA_TEST_EVENTS names the file).
 * In the VM the file is on the host's results share, so when the guest dies
 * mid-run the host still knows every result that came before, and which
 * suite was running (test/support/suite-results.ts reads it).
 */
import { appendFileSync } from 'node:fs';
import type { Test, TestResult } from '@jest/test-result';
import type { SuiteEvent } from './suite-results';

class ResultsReporter {
  private readonly file: string;

  constructor() {
    const file = process.env['GCMA_TEST_EVENTS'];
    if (!file) throw new Error('results-reporter: GCMA_TEST_EVENTS must name the events file');
    this.file = file;
  }

  private write(e: SuiteEvent): void {
    appendFileSync(this.file, `${JSON.stringify(e)}\n`);
  }

  onTestFileStart(test: Test): void {
    this.write({ event: 'start', path: test.path, time: Date.now() });
  }

  onTestFileResult(test: Test, result: TestResult): void {
    this.write({ event: 'result', path: test.path, result });
  }

  getLastError(): void {
    return undefined;
  }
}

export = ResultsReporter;
