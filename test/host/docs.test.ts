/**
 * The API docs build with TypeDoc (warnings are errors: every export
 * documented, every link valid) and have a page for each exported class
 * and function of the package.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as api from '../../lib/index';
import { projectRoot } from '../../lib/paths';

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
