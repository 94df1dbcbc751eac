/**
 * A boot that plays a user's machine for the CLI (test/boot/selftest and
 * bench-here): the test kernel with gcma_test loaded and an ext4 scratch
 * disk mounted at /mnt/scratch (a marker file in it), running a shell
 * script of steps. `run NAME CMD...` in the script runs one step: its exit
 * status, stdout and stderr are kept by name in the results directory.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { runInVm, sparseDisk } from '../../lib/vm/runner';
import { testKernel, testModule } from './test-kernel';

export interface DeviceBootOptions {
  /** The steps, after the prelude; $cli is the gcma command line, $KO gcma_test.ko, $r the results share. */
  script: string;
  resultsDir: string;
  cmdline: readonly string[];
  memoryMiB: number;
  diskMiB: number;
}

export interface DeviceBoot {
  /** A step's exit status. */
  status(step: string): number | undefined;
  /** A file the script wrote to $r: `${step}.out`, `${step}.err`, or its own. */
  file(name: string): string;
}

export async function deviceBoot(o: DeviceBootOptions): Promise<DeviceBoot> {
  const root = projectRoot();
  const kernel = await testKernel();
  const ko = await testModule(kernel, 'gcma_test');
  mkdirSync(o.resultsDir, { recursive: true });
  const disk = sparseDisk(`${o.resultsDir}.img`, o.diskMiB * 2 ** 20);
  const prelude = `
set -u
r=/run/gcma-results
cli="node ${join(root, 'dist', 'lib', 'cli.js')}"
run() { name=$1; shift; "$@" > $r/$name.out 2> $r/$name.err; echo "$name $?" >> $r/status; }
mkfs.ext4 -q -F /dev/vda && mkdir -p /mnt/scratch && mount -t ext4 /dev/vda /mnt/scratch
echo kept > /mnt/scratch/marker
`;
  const r = await runInVm({
    bzImage: kernel.bzImage,
    cwd: root,
    modules: [ko],
    command: ['sh', '-c', prelude + o.script],
    env: { KO: ko },
    memoryMiB: o.memoryMiB,
    cmdline: o.cmdline,
    disks: [disk],
    resultsDir: o.resultsDir,
    output: () => undefined,
  }).finally(() => rmSync(disk, { force: true }));
  if (r.exitCode !== 0) throw new Error(`the script exited ${r.exitCode}: ${r.consoleLog}`);
  const file = (name: string): string => readFileSync(join(o.resultsDir, name), 'utf8');
  const status = new Map(
    file('status')
      .trim()
      .split('\n')
      .map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])] as const),
  );
  return { status: (step) => status.get(step), file };
}
