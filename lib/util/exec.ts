import { spawn, type SpawnOptions } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Append all output here instead of inheriting the terminal. */
  logFile?: string;
  /** Called for each complete output line (only with logFile). */
  onLine?: (line: string) => void;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly tail: string,
  ) {
    super(
      `${command} failed (${signal ? `signal ${signal}` : `exit ${exitCode}`})` +
        (tail ? `\n--- last output ---\n${tail}` : ''),
    );
    this.name = 'CommandError';
  }
}

const TAIL_LINES = 40;

/**
 * Run a command to completion. With logFile its output goes to the file
 * (and line by line to onLine); the last lines are kept for the error.
 */
export function exec(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<void> {
  const printable = [cmd, ...args].join(' ');
  const spawnOpts: SpawnOptions = {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: opts.logFile ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, spawnOpts);
    const tail: string[] = [];
    let log: ReturnType<typeof createWriteStream> | undefined;
    if (opts.logFile) {
      log = createWriteStream(opts.logFile, { flags: 'a' });
      log.write(`$ ${printable}\n`);
      let partial = '';
      const onData = (chunk: Buffer): void => {
        log!.write(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
          opts.onLine?.(line);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
    }
    child.on('error', (err) => {
      log?.end();
      reject(err);
    });
    child.on('close', (code, signal) => {
      const done = (): void => {
        if (code === 0) resolve();
        else reject(new CommandError(printable, code, signal, tail.join('\n')));
      };
      if (log) log.end(done);
      else done();
    });
  });
}

/** Run a command and return its stdout; throws CommandError with stderr on failure. */
export function capture(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new CommandError([cmd, ...args].join(' '), code, signal, err.trim()));
    });
  });
}
