import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobScript, MODULE_LOAD_FAILED, shQuote } from '../../lib/vm/job';

describe('shQuote', () => {
  it.each(["plain", "with space", "it's", "$HOME `x` \"q\" \\", ""])('round-trips %p through sh', (s) => {
    expect(execFileSync('sh', ['-c', `printf %s ${shQuote(s)}`]).toString()).toBe(s);
  });
});

describe('jobScript', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gcma-job-'));

  function runScript(script: string): { status: number | null; stdout: string } {
    const file = join(dir, 'job.sh');
    writeFileSync(file, script);
    const r = spawnSync('sh', [file], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout };
  }

  it('enters cwd, exports env and passes argv untouched, exit status included', () => {
    const r = runScript(
      jobScript({ command: ['sh', '-c', 'echo "$PWD|$FOO|$1"; exit 7', 'arg0', "it's $1"], cwd: dir, env: { FOO: 'a b' }, modules: [] }),
    );
    expect(r.stdout).toBe(`${dir}|a b|it's $1\n`);
    expect(r.status).toBe(7);
  });

  it('stops with a distinct status when a module cannot be loaded', () => {
    const script = jobScript({ command: ['true'], cwd: dir, env: {}, modules: [join(dir, 'missing.ko')] });
    expect(script).toMatch(/^insmod '.*missing\.ko'/m);
    // insmod may not exist on the host: replace it with a failing stand-in.
    expect(runScript(`insmod() { return 1; }\n${script}`).status).toBe(MODULE_LOAD_FAILED);
  });

  it('rejects an empty command and bad variable names', () => {
    expect(() => jobScript({ command: [], cwd: '/', env: {}, modules: [] })).toThrow(/empty/);
    expect(() => jobScript({ command: ['true'], cwd: '/', env: { 'A-B': '1' }, modules: [] })).toThrow(/A-B/);
  });
});
