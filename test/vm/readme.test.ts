/**
 * Runs inside the QEMU guest: the README's examples, as written there. The
 * TypeScript examples (the device's, the heaps') are compiled and run
 * against the package, and print what the README shows (up to the
 * numbers); the CLI lines run one by one, each printing what the README
 * shows after it (in shape: numbers and column widths aside).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { projectRoot } from '../../lib/paths';
import { consoleExample, exampleProgram, missingInShape, readmeExample, shape, userProjectOptions } from '../support/readme';
import { insmod, rmmod, TEST_MODULE } from './support/guest';

const root = projectRoot();

beforeAll(() => insmod(TEST_MODULE));
afterAll(() => rmmod('gcma_test'));

it.each(['api', 'heap'])('runs the %s example and prints what the README shows', (name) => {
  const { code, output } = readmeExample(root, name);
  expect(output).not.toBeNull();
  // The package is this checkout (test/host/docs.test.ts type-checks the same program)
  const js = ts.transpileModule(exampleProgram(code, join(root, 'dist', 'lib', 'index.js')), {
    compilerOptions: userProjectOptions(root),
    reportDiagnostics: true,
  });
  expect(js.diagnostics ?? []).toEqual([]);
  const file = join(mkdtempSync(join(tmpdir(), 'readme-')), 'example.js');
  writeFileSync(file, js.outputText);
  const printed = execFileSync(process.execPath, [file], { encoding: 'utf8' });
  expect(shape(printed)).toEqual(shape(output!));
});

it('runs the CLI lines, each printing what the README shows (in shape)', () => {
  const steps = consoleExample(root, 'cli');
  expect(steps.length).toBeGreaterThan(5);
  for (const { command, output } of steps) {
    const r = spawnSync('sh', ['-c', command], { cwd: root, encoding: 'utf8' });
    expect({ command, status: r.status, stderr: r.stderr }).toEqual({ command, status: 0, stderr: '' });
    expect({ command, missing: missingInShape(output, r.stdout.trimEnd().split('\n')) }).toEqual({ command, missing: [] });
  }
});
