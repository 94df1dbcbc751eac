/**
 * Boot the patched kernel under QEMU and run one command inside:
 * pick the accelerator -> build the QEMU arguments -> boot -> stream the
 * job's output -> collect its exit status and scan the console.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectRoot } from '../paths';
import { chooseAccel, QEMU } from './accel';
import { guestInit } from './guest-init';
import { scanConsole, tail, type ConsoleFinding } from './console';
import { jobScript } from './job';
import { qemuArgs, type Accel } from './qemu-args';

export interface VmRunOptions {
  bzImage: string;
  command: readonly string[];
  /** Working directory in the guest; defaults to the host's cwd (same path there). */
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  /** Kernel modules (host paths) to load before the command. */
  modules?: readonly string[];
  memoryMiB?: number;
  cpus?: number;
  /** Extra kernel parameters (e.g. 'cma=64M'). */
  cmdline?: readonly string[];
  /** Raw disk images attached as /dev/vda, /dev/vdb, ... */
  disks?: readonly string[];
  /** Writable host directory, /run/gcma-results (GCMA_RESULTS) in the guest. */
  resultsDir?: string;
  accel?: Accel | 'auto';
  /** From QEMU start until the guest init reports in. */
  bootTimeoutMs?: number;
  /** For the whole run, boot included. */
  timeoutMs?: number;
  /** Receives the job's output as it comes; default: this process's stdout. */
  output?: (text: string) => void;
  /**
   * Console reports the run provokes on purpose (matched against the
   * report's first line): returned in `expectedReports` instead of failing
   * the run. Any other report still fails it.
   */
  expectedReports?: readonly RegExp[];
}

export interface VmResult {
  exitCode: number;
  accel: Accel;
  resultsDir: string;
  consoleLog: string;
  durationMs: number;
  /** The reports that matched `expectedReports`. */
  expectedReports: ConsoleFinding[];
}

export type VmFailure = 'boot-timeout' | 'timeout' | 'kernel-report' | 'no-exit-status' | 'qemu-error';

export class VmError extends Error {
  constructor(
    readonly reason: VmFailure,
    message: string,
    readonly consoleLog: string,
    readonly findings: readonly ConsoleFinding[] = [],
  ) {
    super(message);
    this.name = 'VmError';
  }
}

const INIT_MARKER = 'gcma-vm: init ready';

function defaultResultsDir(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(projectRoot(), 'results', 'vm', `${stamp}-${process.pid}`);
}

/** A sparse raw disk image of `bytes` for `disks`: only what the guest writes takes space. */
export function sparseDisk(path: string, bytes: number): string {
  writeFileSync(path, '');
  truncateSync(path, bytes);
  return path;
}

let socketSeq = 0;

function listen(path: string): Promise<Server> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(path, () => res(server));
  });
}

export async function runInVm(opts: VmRunOptions): Promise<VmResult> {
  const t0 = Date.now();
  const resultsDir = resolve(opts.resultsDir ?? defaultResultsDir());
  mkdirSync(resultsDir, { recursive: true });
  const consoleLog = join(resultsDir, 'console.log');
  const statusFile = join(resultsDir, 'exit-status');
  rmSync(statusFile, { force: true });
  rmSync(consoleLog, { force: true });
  const cwd = resolve(opts.cwd ?? process.cwd());
  writeFileSync(
    join(resultsDir, 'job.sh'),
    jobScript({
      command: opts.command,
      cwd,
      env: opts.env ?? {},
      modules: (opts.modules ?? []).map((m) => resolve(m)),
    }),
  );

  const accel = await chooseAccel(opts.bzImage, opts.accel ?? 'auto');
  const jobSocket = join(tmpdir(), `gcma-vm-${process.pid}-${socketSeq++}.sock`);
  rmSync(jobSocket, { force: true });
  const server = await listen(jobSocket);
  const args = qemuArgs({
    bzImage: opts.bzImage,
    accel,
    memoryMiB: opts.memoryMiB ?? 1024,
    cpus: opts.cpus ?? 2,
    rootDir: '/',
    resultsDir,
    init: await guestInit(),
    consoleLog,
    jobSocket,
    disks: (opts.disks ?? []).map((d) => resolve(d)),
    cmdline: opts.cmdline ?? [],
    keep: [...new Set([projectRoot(), cwd])],
  });
  writeFileSync(join(resultsDir, 'qemu.args'), [QEMU, ...args].join('\n') + '\n');

  const output = opts.output ?? ((t: string) => void process.stdout.write(t));
  const bootTimeoutMs = opts.bootTimeoutMs ?? (accel === 'kvm' ? 60_000 : 180_000);
  const timeoutMs = opts.timeoutMs ?? 60 * 60_000;

  const qemu = spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let qemuStderr = '';
  qemu.stderr.on('data', (d: Buffer) => (qemuStderr += d.toString('utf8')));

  let booted = false;
  let failure: VmFailure | undefined;
  const kill = (why: VmFailure): void => {
    failure ??= why;
    qemu.kill('SIGKILL');
  };
  const bootTimer = setTimeout(() => !booted && kill('boot-timeout'), bootTimeoutMs);
  const runTimer = setTimeout(() => kill('timeout'), timeoutMs);

  server.on('connection', (sock: Socket) => {
    let pending = '';
    sock.on('data', (d: Buffer) => {
      let text = d.toString('utf8').replace(/\r/g, '');
      if (!booted) {
        pending += text;
        const at = pending.indexOf(INIT_MARKER + '\n');
        if (at < 0) return;
        booted = true;
        text = pending.slice(at + INIT_MARKER.length + 1);
      }
      if (text) output(text);
    });
    sock.on('error', () => undefined);
  });

  const code = await new Promise<number | null>((res) => {
    qemu.on('error', (err) => {
      qemuStderr += String(err);
      res(null);
    });
    qemu.on('close', (c) => res(c));
  });
  clearTimeout(bootTimer);
  clearTimeout(runTimer);
  server.close();
  rmSync(jobSocket, { force: true });

  const consoleText = existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '';
  const { findings, expected: expectedReports } = scanConsole(consoleText, opts.expectedReports);
  const where = `console log: ${consoleLog}`;
  if (findings.length) {
    const first = findings[0]!;
    throw new VmError(
      'kernel-report',
      `the guest kernel reported a ${first.kind} (console line ${first.line}):\n${first.excerpt}\n${where}`,
      consoleLog,
      findings,
    );
  }
  if (failure === 'boot-timeout') {
    throw new VmError('boot-timeout', `the guest did not boot within ${bootTimeoutMs / 1000}s (${accel}); console tail:\n${tail(consoleText)}\n${where}`, consoleLog);
  }
  if (failure === 'timeout') {
    throw new VmError('timeout', `the guest command did not finish within ${timeoutMs / 1000}s; console tail:\n${tail(consoleText)}\n${where}`, consoleLog);
  }
  if (!existsSync(statusFile)) {
    const reason: VmFailure = code === 0 ? 'no-exit-status' : 'qemu-error';
    const qemuMsg = qemuStderr.trim() ? `\nqemu: ${qemuStderr.trim()}` : '';
    throw new VmError(reason, `the guest ended without an exit status (qemu exit ${code})${qemuMsg}; console tail:\n${tail(consoleText)}\n${where}`, consoleLog);
  }
  const exitCode = Number.parseInt(readFileSync(statusFile, 'utf8').trim(), 10);
  return { exitCode, accel, resultsDir, consoleLog, durationMs: Date.now() - t0, expectedReports };
}
