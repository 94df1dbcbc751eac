import { kernelCmdline, qemuArgs, type QemuConfig } from '../../lib/vm/qemu-args';

const cfg: QemuConfig = {
  bzImage: '/cache/bzImage',
  accel: 'tcg',
  memoryMiB: 1024,
  cpus: 2,
  rootDir: '/',
  resultsDir: '/work/results/vm/1',
  init: '/work/scripts/guest-init.sh',
  consoleLog: '/work/results/vm/1/console.log',
  jobSocket: '/tmp/job.sock',
  disks: [],
  cmdline: [],
  keep: [],
};

function valueOf(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('qemuArgs', () => {
  it('shares / read-only as the 9p root and the results dir writable', () => {
    const fsdevs = valueOf(qemuArgs(cfg), '-fsdev');
    expect(fsdevs).toHaveLength(2);
    expect(fsdevs[0]).toContain('path=/,');
    expect(fsdevs[0]).toContain('readonly=on');
    expect(fsdevs[1]).toContain(`path=${cfg.resultsDir}`);
    expect(fsdevs[1]).not.toContain('readonly');
    expect(valueOf(qemuArgs(cfg), '-device')).toContain('virtio-9p-pci,fsdev=root,mount_tag=/dev/root');
  });

  it('uses the accelerator it is given, with a matching CPU model', () => {
    expect(valueOf(qemuArgs(cfg), '-accel')).toEqual(['tcg']);
    expect(valueOf(qemuArgs(cfg), '-cpu')).toEqual(['max,la57=off']);
    const kvm = qemuArgs({ ...cfg, accel: 'kvm' });
    expect(valueOf(kvm, '-accel')).toEqual(['kvm']);
    expect(valueOf(kvm, '-cpu')).toEqual(['host']);
  });

  it('never reboots, so a guest panic ends QEMU', () => {
    expect(qemuArgs(cfg)).toContain('-no-reboot');
  });

  it('puts the console on the first serial port and the job channel on the second', () => {
    expect(valueOf(qemuArgs(cfg), '-serial')).toEqual(['chardev:console', 'chardev:job']);
    expect(valueOf(qemuArgs(cfg), '-chardev')).toEqual([`file,id=console,path=${cfg.consoleLog}`, `socket,id=job,path=${cfg.jobSocket}`]);
  });

  it('sets memory, CPUs and disks', () => {
    const args = qemuArgs({ ...cfg, memoryMiB: 512, cpus: 1, disks: ['/img/a.img', '/img/b.img'] });
    expect(valueOf(args, '-m')).toEqual(['512M']);
    expect(valueOf(args, '-smp')).toEqual(['1']);
    expect(valueOf(args, '-drive')).toEqual(['file=/img/a.img,if=virtio,format=raw', 'file=/img/b.img,if=virtio,format=raw']);
  });

  it('rejects paths QEMU would split and nonsense sizes', () => {
    expect(() => qemuArgs({ ...cfg, disks: ['/img/a,b.img'] })).toThrow(/comma/);
    expect(() => qemuArgs({ ...cfg, memoryMiB: 64 })).toThrow(/memoryMiB/);
    expect(() => qemuArgs({ ...cfg, cpus: 0 })).toThrow(/cpus/);
    expect(() => qemuArgs({ ...cfg, memoryMiB: 1.5e3 + 0.5 })).toThrow(/memoryMiB/);
  });
});

describe('kernelCmdline', () => {
  it('boots the 9p root with our init and turns every WARN and oops into a panic that ends the run', () => {
    const line = kernelCmdline({ init: '/x/init.sh', cmdline: [], keep: [] }).split(' ');
    expect(line).toEqual(expect.arrayContaining(['console=ttyS0', 'root=/dev/root', 'rootfstype=9p', 'ro', 'init=/x/init.sh', 'panic=-1', 'oops=panic', 'panic_on_warn=1']));
  });

  it('appends extra parameters last, so they can override', () => {
    const line = kernelCmdline({ init: '/i', cmdline: ['cma=64M', 'loglevel=3'], keep: [] });
    expect(line.endsWith(' cma=64M loglevel=3')).toBe(true);
  });

  it('tells init which host paths its tmpfs mounts must not hide', () => {
    const line = kernelCmdline({ init: '/i', cmdline: [], keep: ['/tmp/ci/checkout', '/tmp/work'] }).split(' ');
    expect(line).toContain('GCMA_KEEP=/tmp/ci/checkout:/tmp/work');
    expect(kernelCmdline({ init: '/i', cmdline: [], keep: [] })).not.toContain('GCMA_KEEP');
  });

  it.each(['relative/path', '/with space', '/with:colon', '/with"quote'])('refuses to pass %p through the command line', (p) => {
    expect(() => kernelCmdline({ init: '/i', cmdline: [], keep: [p] })).toThrow(/cannot keep/);
  });
});
