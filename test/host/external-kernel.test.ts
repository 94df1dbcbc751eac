/**
 * A kernel built elsewhere (lib/kernel/external.ts), on the host: what each
 * use needs of its .config, the bzImage's own release, and a KDIR that is
 * not one kernel's build with that bzImage. Every refusal here has its
 * accepted twin. test/boot/external-kernel.test.ts boots a real one.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLAVOURS, readDirTexts } from '../../lib/kernel/build';
import { parseKconfig } from '../../lib/kernel/config';
import { bzImageRelease, externalKernel, missingForUse, RUNNER_NEEDS } from '../../lib/kernel/external';
import { projectRoot } from '../../lib/paths';

const root = projectRoot();
const cli = join(root, 'dist', 'lib', 'cli.js');

/** The .config a flavour's fragments ask for, as text (later fragments win, as merge_config.sh). */
function flavourConfig(flavour: string): string {
  const merged = new Map<string, string>();
  for (const f of readDirTexts(join(root, 'kernel', 'config'), FLAVOURS[flavour]!)) {
    for (const [k, v] of parseKconfig(f.text)) merged.set(k, v);
  }
  return [...merged].map(([k, v]) => (v === 'n' ? `# ${k} is not set` : `${k}=${v}`)).join('\n');
}

function edit(text: string, changes: Record<string, string | null>): string {
  const lines = text.split('\n').filter((l) => !Object.keys(changes).some((k) => l === `# ${k} is not set` || l.startsWith(`${k}=`)));
  for (const [k, v] of Object.entries(changes)) if (v !== null) lines.push(v === 'n' ? `# ${k} is not set` : `${k}=${v}`);
  return lines.join('\n');
}

/** A bzImage's first bytes as the x86 boot protocol lays them out, the version string at 0x500. */
function fakeBzImage(path: string, version: string): string {
  const b = Buffer.alloc(0x1000);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x300, 0x20e);
  b.write(`${version}\0`, 0x500, 'latin1');
  writeFileSync(path, b);
  return path;
}

/** A KDIR with what externalKernel() reads of one: release, .config, Module.symvers. */
function fakeKdir(release: string, config: string, symvers = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'gcma-kdir-'));
  mkdirSync(join(dir, 'include', 'config'), { recursive: true });
  writeFileSync(join(dir, 'include', 'config', 'kernel.release'), `${release}\n`);
  writeFileSync(join(dir, '.config'), config);
  if (symvers) writeFileSync(join(dir, 'Module.symvers'), '');
  return dir;
}

describe('what each use needs of .config', () => {
  it('finds nothing missing in the flavour the use is built as', () => {
    expect(missingForUse('debug', parseKconfig(flavourConfig('debug')))).toEqual([]);
    expect(missingForUse('default', parseKconfig(flavourConfig('default')))).toEqual([]);
    expect(missingForUse('vm', parseKconfig(flavourConfig('default')))).toEqual([]);
  });

  it('names each option the suites need and the config lacks, with the fragment that wants it', () => {
    const config = edit(flavourConfig('debug'), { CONFIG_KASAN: null, CONFIG_KUNIT_DEFAULT_ENABLED: 'y', CONFIG_CMDLINE: '"pci=noacpi"', CONFIG_GCMA: 'n' });
    expect(missingForUse('debug', parseKconfig(config))).toEqual([
      { option: 'CONFIG_GCMA', wanted: 'y', got: 'n', fragment: 'gcma.config' },
      { option: 'CONFIG_KUNIT_DEFAULT_ENABLED', wanted: 'n', got: 'y', fragment: 'gcma.config' },
      { option: 'CONFIG_KASAN', wanted: 'y', got: 'n', fragment: 'debug.config' },
      { option: 'CONFIG_CMDLINE', wanted: 'to hold page_poison=1', got: '"pci=noacpi"', fragment: 'debug.config' },
    ]);
  });

  it('takes the project build choices as choices: name, compression, what it leaves out', () => {
    const config = edit(flavourConfig('debug'), {
      CONFIG_LOCALVERSION: '"-vendor"',
      CONFIG_KERNEL_LZ4: 'n',
      CONFIG_KERNEL_GZIP: 'y',
      CONFIG_IPV6: 'y',
      CONFIG_FRAME_WARN: '1024',
      CONFIG_CMDLINE: '"quiet page_poison=1"',
    });
    expect(missingForUse('debug', parseKconfig(config))).toEqual([]);
  });

  it('asks of a kernel for gcma vm only what the runner guest needs', () => {
    const config = edit(flavourConfig('default'), { CONFIG_GCMA: 'n', CONFIG_CMA: 'n', CONFIG_9P_FS: 'm', CONFIG_SERIAL_8250_CONSOLE: null });
    expect(missingForUse('vm', parseKconfig(config)).map((m) => `${m.option}=${m.got}`)).toEqual(['CONFIG_SERIAL_8250_CONSOLE=n', 'CONFIG_9P_FS=m']);
    // Every runner need is one the base guest sets
    const base = parseKconfig(readDirTexts(join(root, 'kernel', 'config'), ['base.config'])[0]!.text);
    expect(RUNNER_NEEDS.filter((o) => base.get(o) !== 'y')).toEqual([]);
  });
});

describe('a bzImage and its KDIR', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gcma-bz-'));
  const bz = fakeBzImage(join(dir, 'bzImage'), '6.12.99-vendor (builder@host) #1 SMP PREEMPT_DYNAMIC');

  it('reads the release from the boot header, and refuses a file that is no bzImage', () => {
    expect(bzImageRelease(bz)).toBe('6.12.99-vendor');
    writeFileSync(join(dir, 'vmlinux'), Buffer.alloc(0x1000));
    expect(() => bzImageRelease(join(dir, 'vmlinux'))).toThrow(/is not an x86 bzImage \(no HdrS boot header\)/);
  });

  it('accepts a KDIR of that release whose .config has what the use needs', () => {
    const kdir = fakeKdir('6.12.99-vendor', flavourConfig('debug'));
    expect(externalKernel(bz, kdir, 'debug')).toMatchObject({ flavour: 'debug', external: true, release: '6.12.99-vendor', buildDir: kdir, bzImage: bz });
    expect(externalKernel(bz, kdir, 'vm').flavour).toBe('external');
  });

  it('refuses a KDIR of another release, one that cannot build modules, and one whose .config lacks a need', () => {
    expect(() => externalKernel(bz, fakeKdir('6.12.99-other', flavourConfig('debug')), 'debug')).toThrow(
      /bzImage is 6\.12\.99-vendor, but KDIR .* built 6\.12\.99-other: pass the KDIR the bzImage was built in/,
    );
    expect(() => externalKernel(bz, fakeKdir('6.12.99-vendor', flavourConfig('debug'), false), 'debug')).toThrow(/is not a kernel build directory: it has no Module\.symvers/);
    const kdir = fakeKdir('6.12.99-vendor', edit(flavourConfig('default'), { CONFIG_CLEANCACHE: 'n' }));
    expect(() => externalKernel(bz, kdir, 'default')).toThrow(
      new RegExp(`^6\\.12\\.99-vendor \\(KDIR ${kdir}\\) lacks what the benchmark needs:\\n  CONFIG_CLEANCACHE: gcma\\.config wants y, \\.config has n$`),
    );
    // That kernel still boots gcma vm: the runner needs no cleancache
    expect(externalKernel(bz, kdir, 'vm').release).toBe('6.12.99-vendor');
  });

  it('gcma vm and gcma bench refuse it before booting, naming the options; usage mistakes exit 2', () => {
    const kdir = fakeKdir('6.12.99-vendor', edit(flavourConfig('default'), { CONFIG_VIRTIO_BLK: 'm', CONFIG_GCMA: 'n' }));
    const gcma = (...args: string[]): { status: number | null; stderr: string } => {
      const env = { ...process.env };
      delete env['KDIR'];
      const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
      return { status: r.status, stderr: r.stderr };
    };
    const vm = gcma('vm', '--kernel', bz, '--kdir', kdir, '--', 'true');
    expect(vm).toEqual({ status: 1, stderr: `gcma: 6.12.99-vendor (KDIR ${kdir}) lacks what the VM runner needs:\n  CONFIG_VIRTIO_BLK: the runner wants y, .config has m\n` });
    const bench = gcma('bench', '--kernel', bz, '--kdir', kdir);
    expect(bench.status).toBe(1);
    expect(bench.stderr).toContain('lacks what the benchmark needs:\n  CONFIG_VIRTIO_BLK: base.config wants y, .config has m\n  CONFIG_GCMA: gcma.config wants y, .config has n\n');
    expect(gcma('vm', '--kernel', bz, '--', 'true')).toMatchObject({ status: 2, stderr: expect.stringContaining('--kernel needs --kdir DIR (or $KDIR)') });
    expect(gcma('vm', '--kernel', bz, '--kdir', kdir, '--flavour', 'debug', '--', 'true')).toMatchObject({ status: 2, stderr: expect.stringContaining('--kernel and --flavour: one or the other') });
    expect(gcma('bench', '--kdir', kdir)).toMatchObject({ status: 2, stderr: expect.stringContaining('--kdir goes with --kernel') });
  });
});
