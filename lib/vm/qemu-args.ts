/**
 * QEMU command line for the test VM: a pure function of the options, so it
 * can be tested without booting anything.
 */

export type Accel = 'kvm' | 'tcg';

export interface QemuConfig {
  bzImage: string;
  accel: Accel;
  memoryMiB: number;
  cpus: number;
  /** Host directory shared read-only as the guest's root (normally '/'). */
  rootDir: string;
  /** Host directory shared read-write, mounted by the guest init. */
  resultsDir: string;
  /** Guest path of the init script (on the shared root). */
  init: string;
  /** File receiving the kernel console (ttyS0). */
  consoleLog: string;
  /** Unix socket, listened on by the host, carrying the job's output (ttyS1). */
  jobSocket: string;
  /** Raw disk images, attached as virtio-blk (/dev/vda, /dev/vdb, ...). */
  disks: readonly string[];
  /** Extra kernel parameters, appended after the runner's own. */
  cmdline: readonly string[];
  /** Host paths the guest's tmpfs mounts must not hide (checkout, cwd). */
  keep: readonly string[];
}

export const RESULTS_TAG = 'gcma-results';

/** Kernel parameters: 9p root, and any panic, oops or WARN ends the run at once. */
export function kernelCmdline(cfg: Pick<QemuConfig, 'init' | 'cmdline' | 'keep'>): string {
  for (const p of cfg.keep) {
    // Passed to init as GCMA_KEEP=a:b on the kernel command line.
    if (!p.startsWith('/') || /[\s:"]/.test(p)) throw new Error(`cannot keep ${JSON.stringify(p)} visible in the guest: absolute paths without blanks, ':' or '"' only`);
  }
  const keep = cfg.keep.length ? [`GCMA_KEEP=${cfg.keep.join(':')}`] : [];
  return [
    'console=ttyS0',
    'root=/dev/root',
    'rootfstype=9p',
    'rootflags=trans=virtio,version=9p2000.L,msize=524288,cache=loose',
    'ro',
    `init=${cfg.init}`,
    'panic=-1',
    'oops=panic',
    'panic_on_warn=1',
    ...keep,
    ...cfg.cmdline,
  ].join(' ');
}

function fsdev(id: string, path: string, tag: string, readonly: boolean): string[] {
  const opts = ['local', `id=${id}`, `path=${path}`, 'security_model=none', 'multidevs=remap'];
  if (readonly) opts.push('readonly=on');
  return ['-fsdev', opts.join(','), '-device', `virtio-9p-pci,fsdev=${id},mount_tag=${tag}`];
}

export function qemuArgs(cfg: QemuConfig): string[] {
  for (const p of [cfg.rootDir, cfg.resultsDir, cfg.consoleLog, cfg.jobSocket, ...cfg.disks]) {
    // QEMU splits -fsdev/-drive/-chardev values on commas.
    if (p.includes(',')) throw new Error(`path must not contain a comma: ${p}`);
  }
  if (!Number.isInteger(cfg.memoryMiB) || cfg.memoryMiB < 128) throw new Error(`memoryMiB must be an integer >= 128`);
  if (!Number.isInteger(cfg.cpus) || cfg.cpus < 1) throw new Error(`cpus must be a positive integer`);
  const args = [
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-no-reboot',
    '-machine', 'pc',
    '-accel', cfg.accel,
    // No LA57 under TCG: while identify_cpu() re-reads the CPU's features,
    // pgtable_l5_enabled() says no, and KASAN took an interrupt's access
    // to the 5-level direct map for a wild one (a false report, at boot).
    '-cpu', cfg.accel === 'kvm' ? 'host' : 'max,la57=off',
    '-m', `${cfg.memoryMiB}M`,
    '-smp', String(cfg.cpus),
    '-kernel', cfg.bzImage,
    '-append', kernelCmdline(cfg),
    '-chardev', `file,id=console,path=${cfg.consoleLog}`,
    '-serial', 'chardev:console',
    '-chardev', `socket,id=job,path=${cfg.jobSocket}`,
    '-serial', 'chardev:job',
    ...fsdev('root', cfg.rootDir, '/dev/root', true),
    ...fsdev('results', cfg.resultsDir, RESULTS_TAG, false),
    '-device', 'virtio-rng-pci',
  ];
  for (const disk of cfg.disks) args.push('-drive', `file=${disk},if=virtio,format=raw`);
  return args;
}
