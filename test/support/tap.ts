/** TAP 13 as the project's C test programs print it (test/uapi). */
import { spawnSync } from 'node:child_process';

export interface TapCase {
  name: string;
  ok: boolean;
  /** The "# ..." lines printed before the result line: why it failed. */
  diagnostics: string[];
}

export interface TapRun {
  planned: number | null;
  cases: TapCase[];
  /** "Bail out!" reason, if the program gave up. */
  bailOut: string | null;
  exitCode: number | null;
  output: string;
}

export function parseTap(output: string): Omit<TapRun, 'exitCode' | 'output'> {
  let planned: number | null = null;
  let bailOut: string | null = null;
  let pending: string[] = [];
  const cases: TapCase[] = [];
  for (const line of output.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^1\.\.(\d+)$/.exec(line))) planned = Number(m[1]);
    else if ((m = /^(not )?ok \d+ - (.*)$/.exec(line))) {
      cases.push({ name: m[2]!, ok: !m[1], diagnostics: pending });
      pending = [];
    } else if ((m = /^#\s?(.*)$/.exec(line))) pending.push(m[1]!);
    else if ((m = /^Bail out!\s*(.*)$/.exec(line))) bailOut = m[1]!;
  }
  return { planned, cases, bailOut };
}

/** Run a TAP program to completion (synchronously) and parse what it printed. */
export function runTap(program: string, args: readonly string[], timeoutMs: number): TapRun {
  const r = spawnSync(program, args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) throw r.error;
  const output = r.stdout + (r.stderr ? `\n[stderr]\n${r.stderr}` : '');
  return { ...parseTap(r.stdout), exitCode: r.status, output };
}

/** The test names a TAP program would run, from its --list option. */
export function listTap(program: string, args: readonly string[]): string[] {
  const r = spawnSync(program, ['--list', ...args], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${program} --list: exit ${r.status}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

/** test/uapi/gcma_test_uapi.c, built on the host by `make fixtures`. */
export function uapiTestProgram(root: string): string {
  return `${root}/test/uapi/gcma_test_uapi`;
}

/** test/uapi/dmabuf_heap_test.c, built on the host by `make test`. */
export function heapTestProgram(root: string): string {
  return `${root}/test/uapi/dmabuf_heap_test`;
}
