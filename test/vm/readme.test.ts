/**
 * Runs inside the QEMU guest: the README's examples, as written there. The
 * TypeScript examples (the device's, the heaps') are compiled and run
 * against the package, and print what the README shows (up to the
 * numbers); the CLI lines run one by one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { projectRoot } from '../../lib/paths';
import { readmeExample, shape } from '../support/readme';
import { insmod, rmmod, TEST_MODULE } from './support/guest';

const root = projectRoot();

beforeAll(() => insmod(TEST_MODULE));
afterAll(() => rmmod('gcma_test'));

it.each(['api', 'heap'])('runs the %s example and prints what the README shows', (name) => {
  const { code, output } = readmeExample(root, name);
  expect(output).not.toBeNull();
  // The package is this checkout; top-level await needs an async body.
  const body = code.replace(/from 'gcma'/, `from ${JSON.stringify(join(root, 'dist', 'lib', 'index.js'))}`);
  const imports = body.split('\n').filter((l) => l.startsWith('import '));
  const rest = body.split('\n').filter((l) => !l.startsWith('import '));
  const source = `${imports.join('\n')}\n(async () => {\n${rest.join('\n')}\n})().catch((e) => { console.error(e); process.exit(1); });\n`;
  const js = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'] },
    reportDiagnostics: true,
  });
  expect(js.diagnostics ?? []).toEqual([]);
  const file = join(mkdtempSync(join(tmpdir(), 'readme-')), 'example.js');
  writeFileSync(file, js.outputText);
  const printed = execFileSync(process.execPath, [file], { encoding: 'utf8' });
  expect(shape(printed)).toEqual(shape(output!));
});

it('runs the CLI lines', () => {
  const { code } = readmeExample(root, 'cli');
  for (const line of code.trim().split('\n')) {
    const r = spawnSync('sh', ['-c', line], { cwd: root, encoding: 'utf8' });
    expect({ line, status: r.status, stderr: r.stderr }).toEqual({ line, status: 0, stderr: '' });
    if (line.includes('session --json')) {
      const replies = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean });
      expect(replies.map((x) => x.ok)).toEqual([true, true, true, true]);
    }
  }
});
