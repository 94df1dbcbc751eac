/**
 * A kernel built elsewhere (`--kernel BZIMAGE --kdir KDIR`): a vendor's
 * tree with the series applied, or a distribution's build. Nothing is
 * built; the bzImage and KDIR are checked to be one kernel, and KDIR's
 * .config for what the use needs, each missing option named with why.
 *
 * What a use needs is what the project's own flavour of it asks for
 * (kernel/config/*.config), except the options that are choices of how the
 * project builds (BUILD_CHOICES): a vendor's kernel need not be LZ4 or
 * leave out IPv6. `gcma vm` needs only what the runner's guest does
 * (RUNNER_NEEDS).
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../paths';
import { inputsKey } from './cache';
import { FLAVOURS, readDirTexts, type KernelBuild } from './build';
import { checkKconfig, formatMismatches, parseKconfig, type ConfigMismatch, type KconfigValues } from './config';

/** What a kernel is checked for: the runner alone, or a flavour's uses (default: gcma bench; debug: make test). */
export type KernelUse = 'vm' | 'default' | 'debug';

/**
 * Options the fragments set for the project's builds, not because anything
 * run on the kernel depends on them.
 */
export const BUILD_CHOICES: Readonly<Record<string, string>> = {
  CONFIG_LOCALVERSION: 'names the build',
  CONFIG_LOCALVERSION_AUTO: 'names the build',
  CONFIG_KERNEL_LZ4: 'bzImage compression',
  CONFIG_FRAME_WARN: 'a compiler warning threshold',
  CONFIG_DEBUG_INFO_NONE: 'build size',
  CONFIG_IPV6: 'left out for build time',
  CONFIG_INET_DIAG: 'left out for build time',
  CONFIG_WIRELESS: 'left out for build time',
  CONFIG_VT: 'left out for build time',
  CONFIG_INPUT: 'left out for build time',
  CONFIG_HID: 'left out for build time',
  CONFIG_HYPERVISOR_GUEST: 'paravirt speed under KVM',
  CONFIG_PARAVIRT: 'paravirt speed under KVM',
  CONFIG_KVM_GUEST: 'paravirt speed under KVM',
  CONFIG_SLUB_TINY: 'tinyconfig picks it; KASAN excludes it anyway',
  CONFIG_MEM_ALLOC_PROFILING_DEBUG: 'left out for the series check',
  CONFIG_CMDLINE_BOOL: 'checked as CONFIG_CMDLINE below',
  CONFIG_CMDLINE: 'checked as CMDLINE_NEEDS below',
};

/**
 * Built-in parameters a flavour's uses depend on (CONFIG_CMDLINE must hold
 * them): the debug flavour's page poisoning is only on with page_poison=1,
 * and the suites check it is. (pci=noacpi, the other one, is boot speed.)
 */
export const CMDLINE_NEEDS: Readonly<Record<string, readonly string[]>> = { debug: ['page_poison=1'] };

/**
 * The runner's guest (lib/vm/guest-init.c, lib/vm/qemu-args.ts): its
 * console and job channel, the host's / over 9p, what init mounts, and the
 * sysrq power-off it ends with.
 */
export const RUNNER_NEEDS: readonly string[] = [
  'CONFIG_64BIT',
  'CONFIG_PRINTK',
  'CONFIG_BINFMT_ELF',
  'CONFIG_BINFMT_SCRIPT',
  'CONFIG_MODULES',
  'CONFIG_MODULE_UNLOAD',
  'CONFIG_FUTEX',
  'CONFIG_EPOLL',
  'CONFIG_EVENTFD',
  'CONFIG_TTY',
  'CONFIG_UNIX98_PTYS',
  'CONFIG_SERIAL_8250',
  'CONFIG_SERIAL_8250_CONSOLE',
  'CONFIG_MAGIC_SYSRQ',
  'CONFIG_ACPI',
  'CONFIG_PCI',
  'CONFIG_VIRTIO_PCI',
  'CONFIG_BLK_DEV',
  'CONFIG_VIRTIO_BLK',
  'CONFIG_NET',
  'CONFIG_NET_9P',
  'CONFIG_NET_9P_VIRTIO',
  'CONFIG_9P_FS',
  'CONFIG_DEVTMPFS',
  'CONFIG_PROC_FS',
  'CONFIG_SYSFS',
  'CONFIG_SHMEM',
  'CONFIG_TMPFS',
];

const WHO_NEEDS: Readonly<Record<KernelUse, string>> = { vm: 'the VM runner needs', default: 'the benchmark needs', debug: 'the test suites need' };

/** What `use` needs of a kernel's .config that `config` does not hold. */
export function missingForUse(use: KernelUse, config: KconfigValues, root = projectRoot()): ConfigMismatch[] {
  if (use === 'vm') {
    return RUNNER_NEEDS.filter((o) => config.get(o) !== 'y').map((option) => ({ option, wanted: 'y', got: config.get(option) ?? 'n', fragment: 'the runner' }));
  }
  const names = FLAVOURS[use];
  if (!names) throw new Error(`unknown kernel flavour '${use}'`);
  const fragments = readDirTexts(join(root, 'kernel', 'config'), names);
  const missing = checkKconfig(fragments, config).filter((m) => !(m.option in BUILD_CHOICES));
  const cmdline = (config.get('CONFIG_CMDLINE') ?? '""').replace(/^"|"$/g, '').split(/\s+/);
  for (const param of CMDLINE_NEEDS[use] ?? []) {
    if (!cmdline.includes(param)) missing.push({ option: 'CONFIG_CMDLINE', wanted: `to hold ${param}`, got: config.get('CONFIG_CMDLINE') ?? 'n', fragment: names.at(-1)! });
  }
  return missing;
}

/**
 * The release an x86 bzImage was built as: the boot protocol's
 * kernel_version string (setup header at 0x1f1, "HdrS" at 0x202, the
 * string's offset less 0x200 at 0x20e), up to its first space.
 */
export function bzImageRelease(bzImage: string): string {
  const head = Buffer.alloc(0x8000);
  const fd = openSync(bzImage, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new Error(`${bzImage} is not an x86 bzImage (no HdrS boot header)`);
  const at = head.readUInt16LE(0x20e);
  if (at === 0) throw new Error(`${bzImage} carries no kernel version string`);
  const start = at + 0x200;
  const end = head.indexOf(0, start);
  if (start >= head.length || end === -1) throw new Error(`${bzImage}: its kernel version string is not in its first ${head.length} bytes`);
  return head.toString('latin1', start, end).split(' ')[0]!;
}

/**
 * The KernelBuild of a kernel built elsewhere, once checked: the bzImage
 * and KDIR are the same release, KDIR can build modules, and its .config
 * holds what `use` needs. `flavour` is the use's flavour (the one whose
 * needs it meets), 'external' for `vm`.
 */
export function externalKernel(bzImage: string, kdir: string, use: KernelUse): KernelBuild {
  const image = resolve(bzImage);
  const dir = resolve(kdir);
  if (!existsSync(image) || !statSync(image).isFile()) throw new Error(`--kernel ${bzImage}: no such file`);
  const releaseFile = join(dir, 'include', 'config', 'kernel.release');
  const dotConfig = join(dir, '.config');
  for (const [path, what] of [
    [releaseFile, 'include/config/kernel.release'],
    [dotConfig, '.config'],
    [join(dir, 'Module.symvers'), 'Module.symvers (modules are built against it)'],
  ] as const) {
    if (!existsSync(path)) throw new Error(`KDIR ${kdir} is not a kernel build directory: it has no ${what}`);
  }
  const release = readFileSync(releaseFile, 'utf8').trim();
  const imageRelease = bzImageRelease(image);
  if (imageRelease !== release) throw new Error(`--kernel ${bzImage} is ${imageRelease}, but KDIR ${kdir} built ${release}: pass the KDIR the bzImage was built in`);
  const text = readFileSync(dotConfig, 'utf8');
  const missing = missingForUse(use, parseKconfig(text));
  if (missing.length) {
    throw new Error(`${release} (KDIR ${kdir}) lacks what ${WHO_NEEDS[use]}:\n${formatMismatches(missing)}`);
  }
  const source = join(dir, 'source');
  return {
    flavour: use === 'vm' ? 'external' : use,
    external: true,
    sourceVersion: release,
    sourceDir: existsSync(source) ? realpathSync(source) : dir,
    buildDir: dir,
    bzImage: image,
    release,
    key: inputsKey([release, { name: '.config', text }]),
  };
}
