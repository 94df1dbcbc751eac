/**
 * Choosing KVM or TCG. /dev/kvm existing is not enough: under nested
 * virtualisation here KVM hangs right after "Booting from ROM". A short
 * boot of the real kernel must print its banner on the console in time.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Accel } from './qemu-args';

export const QEMU = 'qemu-system-x86_64';

function kvmDeviceUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Boot `bzImage` under KVM until its banner appears; false on timeout or error. */
export function probeKvm(bzImage: string, timeoutMs = 10_000): Promise<boolean> {
  if (!kvmDeviceUsable()) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(
      QEMU,
      ['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-accel', 'kvm', '-cpu', 'host',
        '-m', '256M', '-serial', 'stdio', '-kernel', bzImage, '-append', 'console=ttyS0 panic=-1'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (out.includes('Linux version')) finish(true);
    });
    child.on('error', () => finish(false));
    child.on('close', () => finish(out.includes('Linux version')));
  });
}

const probed = new Map<string, Promise<boolean>>();

/**
 * The accelerator to use: GCMA_ACCEL=kvm|tcg forces one, otherwise KVM when
 * the probe (done once per kernel image and process) boots, else TCG.
 */
export async function chooseAccel(bzImage: string, requested: Accel | 'auto' = 'auto'): Promise<Accel> {
  const forced = requested !== 'auto' ? requested : process.env['GCMA_ACCEL'];
  if (forced === 'kvm' || forced === 'tcg') return forced;
  if (forced && forced !== 'auto') throw new Error(`GCMA_ACCEL must be kvm, tcg or auto, not '${forced}'`);
  let p = probed.get(bzImage);
  if (!p) {
    p = probeKvm(bzImage);
    probed.set(bzImage, p);
  }
  return (await p) ? 'kvm' : 'tcg';
}
