/**
 * The API docs build with TypeDoc (warnings are errors: every export
 * documented, every link valid) and have a page for each exported class
 * and function of the package; the README's TypeScript examples
 * type-check against it, strict (test/vm/readme.test.ts runs them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import * as api from '../../lib/index';
import { projectRoot } from '../../lib/paths';
import { consoleExample, exampleProgram, missingInShape, readmeExample, userProjectOptions } from '../support/readme';

jest.setTimeout(120_000);

it('builds without warnings and documents every export', () => {
  const root = projectRoot();
  const out = mkdtempSync(join(tmpdir(), 'gcma-docs-'));
  try {
    const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [typedoc, '--out', out], { cwd: root, encoding: 'utf8' });
    expect({ status: r.status, output: r.stdout + r.stderr }).toEqual({ status: 0, output: expect.not.stringMatching(/warning|error/i) });
    const missing = Object.entries(api)
      .filter(([, v]) => typeof v === 'function')
      .map(([name, v]) => join(out, /^class /.test(String(v)) ? 'classes' : 'functions', `${name}.html`))
      .filter((page) => !existsSync(page));
    expect(missing).toEqual([]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

/** Type errors of a README example compiled against lib/index.ts as a user's strict project would. */
function typeErrors(code: string): string[] {
  const root = projectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'gcma-readme-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, exampleProgram(code, join(root, 'lib', 'index')));
    const program = ts.createProgram([file], { ...userProjectOptions(root), noEmit: true });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it.each(['api', 'heap'])('the README %s example type-checks, strict; the same with a mistake does not', (name) => {
  const { code } = readmeExample(projectRoot(), name);
  expect(typeErrors(code)).toEqual([]);
  // The control: a method that does not exist is an error
  const wrong = code.replace(/\.alloc(Async)?\(/, '.allocate(');
  expect(wrong).not.toBe(code);
  expect(typeErrors(wrong)).toEqual([expect.stringContaining("Property 'allocate' does not exist")]);
});

it("compares the README's CLI output in shape: numbers, column widths and rows in between aside, a changed word not", () => {
  const steps = consoleExample(projectRoot(), 'cli');
  const areas = steps.find((x) => /cli\.js areas$/.test(x.command));
  expect(areas?.output.length).toBeGreaterThan(2);
  const shown = areas!.output;
  // Other numbers and widths, and another area's row in between
  const printed = shown.map((l) => l.replace(/0x[0-9a-f]+/g, '0xabc123').replace(/\b\d+\b/g, '123456').replace(/ +/g, '   '));
  printed.splice(2, 0, 'gcma  7  other  gcma  0x1-0x2  1  0  0  0  0  0');
  expect(missingInShape(shown, printed)).toEqual([]);
  // The control: a column renamed, a row gone
  expect(missingInShape(shown, printed.map((l) => l.replace('CACHED', 'COPIES')))).toEqual([shown[0]]);
  expect(missingInShape(shown, printed.filter((l) => !l.includes('readme-cli')))).toEqual(shown.filter((l) => l.includes('readme-cli')));
});
