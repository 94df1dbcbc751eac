/**
 * scripts/setup.sh checks the Node.js it runs with before anything else
 * (apt, npm): Debian 12's own nodejs is 18, the project needs 20.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { projectRoot } from '../../lib/paths';

const setup = join(projectRoot(), 'scripts', 'setup.sh');

function checkNode(path: string): { status: number | null; stderr: string } {
  const r = spawnSync('bash', [setup, '--check-node'], { encoding: 'utf8', env: { ...process.env, PATH: path } });
  return { status: r.status, stderr: r.stderr };
}

it('refuses a Node.js older than 20 with a message saying what to install, and passes this one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gcma-node18-'));
  try {
    // Debian 12's nodejs, as far as the check can tell
    writeFileSync(join(dir, 'node'), '#!/bin/sh\nif [ "$1" = -p ]; then echo 18; else echo v18.19.0; fi\n');
    chmodSync(join(dir, 'node'), 0o755);
    const old = checkNode(`${dir}:${process.env['PATH']}`);
    expect(old.status).toBe(1);
    expect(old.stderr).toContain('Node.js >= 20 is needed, found v18.19.0');
    // The control: the Node running this test
    expect(checkNode(`${dirname(process.execPath)}:${process.env['PATH']}`)).toEqual({ status: 0, stderr: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
