/** The shell script the guest init runs: load modules, enter cwd, exec argv. */

export interface Job {
  command: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  /** Host paths of kernel modules to insmod before the command. */
  modules: readonly string[];
}

/** Quote for POSIX sh: single quotes, with embedded ones closed and escaped. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Exit status of the job when a module fails to load (the command never runs). */
export const MODULE_LOAD_FAILED = 90;

export function jobScript(job: Job): string {
  if (job.command.length === 0) throw new Error('empty command');
  const lines = ['# written by lib/vm/job.ts; run by the guest init (lib/vm/guest-init.c)'];
  for (const mod of job.modules) {
    lines.push(`insmod ${shQuote(mod)} || { echo "gcma-vm: insmod ${mod.replace(/["$`\\]/g, '')} failed" >&2; exit ${MODULE_LOAD_FAILED}; }`);
  }
  lines.push(`cd ${shQuote(job.cwd)} || exit ${MODULE_LOAD_FAILED + 1}`);
  for (const [k, v] of Object.entries(job.env)) {
    if (!ENV_NAME.test(k)) throw new Error(`bad environment variable name: ${k}`);
    lines.push(`export ${k}=${shQuote(v)}`);
  }
  lines.push(`exec ${job.command.map(shQuote).join(' ')}`);
  return lines.join('\n') + '\n';
}
