#!/usr/bin/env node
/**
 * gcma command line.
 *
 *   gcma kernel build [--flavour NAME]      build (or reuse) the patched kernel
 *   gcma kernel check-series [--flavour NAME] build after each patch of the series
 *   gcma vm [options] -- COMMAND [ARG...]   boot it (or --kernel BZIMAGE) under QEMU and run COMMAND
 *   gcma status [--json]                    what this kernel has of GCMA
 *   gcma areas|register|alloc|stats|session the test device (lib/device-cli.ts)
 *   gcma heap list|alloc                    dma-buf heaps (lib/heap-cli.ts)
 *   gcma bench [options]                    GCMA vs CMA under pressure, in the VM
 *   gcma selftest [options]                 the device's suites on this machine, as TAP
 *
 * Exit status: 0 success; 1 error; 2 usage (an argument the library
 * refused as a mistake too); 3 the kernel (or the library, knowing it
 * would) refused a device command; 4 no usable device (module not
 * loaded, not root); for `vm`, the guest command's own status, or 125 when
 * the VM itself failed (no boot, timeout, kernel panic/oops/WARN).
 */
import { parseArgs } from 'node:util';
import { buildKernel, FLAVOURS, type KernelBuild } from './kernel/build';
import { externalKernel, type KernelUse } from './kernel/external';
import { checkSeriesBuilds } from './kernel/series-check';
import { buildModuleFor, TEST_MODULE_SOURCE } from './kernel/module';
import { DEFAULT_OPTIONS, QUICK_OPTIONS, type BenchOptions } from './bench/options';
import { runBenchHere, runBenchInVm } from './bench/host';
import { formatReport } from './bench/report';
import { Device } from './device';
import { allocAndFree, EXIT, exitCodeFor, formatAreas, formatRuns, listAreas, resolveArea, runSession } from './device-cli';
import { table } from './util/table';
import { allocFromHeap, formatHeapAlloc, formatHeaps, listHeaps, parseBytes } from './heap-cli';
import { PfnRange } from './pfn-range';
import { cleancacheStats } from './stats';
import { formatStatus, readStatus } from './status';
import type { DataPlace } from './scratch';
import { runSelftest, SelftestRefused } from './selftest';
import { runInVm, VmError, type VmRunOptions } from './vm/runner';

export const EXIT_VM_FAILED = 125;

class UsageError extends Error {
  /** The command whose usage to print; the whole usage when undefined. */
  command?: string | undefined;
}

/** `--help` on a command: its usage on stdout, exit 0. */
class HelpRequest extends Error {
  constructor(readonly command: string) {
    super(command);
  }
}

const flavours = Object.keys(FLAVOURS).join('|');

/** Each command's usage: `gcma CMD --help` prints its own, `gcma --help` all of them. */
const COMMANDS: Record<string, string> = {
  'kernel build': `gcma kernel build [--flavour ${flavours}] [--json]
             (builds, or reuses from the cache, the patched kernel and, for
             flavours but the default, gcma_test.ko; prints the bzImage, or
             with --json the flavour, release, bzImage, KDIR and modules)`,
  'kernel check-series': `gcma kernel check-series [--flavour ${flavours}]`,
  vm: `gcma vm [--memory MiB] [--cpus N] [--cmdline PARAM]... [--disk IMG]...
          [--module KO]... [--results DIR] [--accel auto|kvm|tcg]
          [--timeout SECONDS] [--flavour NAME | --kernel BZIMAGE [--kdir DIR]]
          -- COMMAND [ARG...]
             (--kernel: a kernel built elsewhere, not the cache's; --kdir, or
             $KDIR: its build directory, checked for the options the guest
             needs)`,
  status: 'gcma status [--json]',
  areas: 'gcma areas [--json] [--device PATH]',
  register: 'gcma register NAME PAGES [--json] [--device PATH]',
  alloc: `gcma alloc AREA PAGES [--at PFN] [--compound] [--dma] [--repeat N]
             [--hold SECONDS] [--json] [--device PATH]   (frees on exit; AREA: a
             GCMA area's name or index, cma (the default CMA area), cma:NAME or
             cma:INDEX; --dma: dma_alloc_coherent() on a CMA area's device)`,
  stats: 'gcma stats [--json] [--device PATH]',
  'heap list': 'gcma heap list [--json]                 the dma-buf heaps (/dev/dma_heap)',
  'heap alloc': `gcma heap alloc NAME SIZE [--hold SECONDS] [--json]
             (SIZE in bytes, or with K, M, G; checks the buffer is zeroed,
             closes it on exit)`,
  bench: `gcma bench [--quick] [--area MiB] [--sizes 1,64,...] [--reps N] [--rounds N]
             [--duration S] [--runs N] [--data MiB] [--memory MiB]
             [--heap-sizes 1,4,...(MiB)]
             [--heap-rounds N] [--seed N] [--rt-priority N] [--results DIR] [--json]
             [--kernel BZIMAGE [--kdir DIR]]
             [--here (--scratch DIR | --disk DEV --yes-destroy)]
             (--kernel: a kernel built elsewhere, checked for what the
             benchmark needs, gcma_test.ko built against --kdir or $KDIR;
             --here: on this machine, no VM, booted with the areas --area
             asks for, its memory, data files in DIR (on ext4) or on DEV
             made a new ext4;
             --seed: of the allocators' random order; default from the
             clock, in the report; --rt-priority: allocate under pressure
             from a SCHED_FIFO thread of priority N, 1-99)`,
  selftest: `gcma selftest [--scratch DIR | --disk DEV --yes-destroy]
             (on this machine, root, gcma_test loaded, booted with cma= and a
             guaranteed area: the device's suites, and with --scratch (a
             directory on ext4) or --disk (made a new ext4) cleancache's,
             as TAP on stdout; from a checkout, after make test's build)`,
  session: `gcma session [--json] [--device PATH]   commands on stdin: areas, stats,
             register NAME PAGES, alloc AREA PAGES [at=PFN] [compound] [dma],
             free RANGE|last`,
};

const USAGE = `usage:\n${Object.values(COMMANDS)
  .map((u) => `  ${u}`)
  .join('\n')}\n  (gcma COMMAND --help: that command's usage)`;

function usageOf(command: string | undefined): string {
  const u = command === undefined ? undefined : COMMANDS[command];
  return u === undefined ? USAGE : `usage:\n  ${u}`;
}

type OptionSpec = Record<string, { type: 'boolean' | 'string'; multiple?: boolean }>;

interface Args {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/**
 * The one argument parser of every command (node:util parseArgs, strict):
 * `options` as parseArgs takes them, plus -h/--help; `positionals` the
 * names of the arguments the command takes, or 'command' for what follows
 * `--` (gcma vm), which must follow the options.
 */
function parse(command: string, argv: readonly string[], options: OptionSpec, positionals: readonly string[] | 'command'): Args {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw usage(command, err instanceof Error ? err.message : String(err));
  }
  if (parsed.values.help) throw new HelpRequest(command);
  if (positionals === 'command') {
    const end = parsed.tokens.findIndex((t) => t.kind === 'option-terminator');
    const stray = parsed.tokens.slice(0, end === -1 ? undefined : end).find((t) => t.kind === 'positional');
    if (stray?.kind === 'positional') throw usage(command, `unexpected '${stray.value}': options first, then -- COMMAND`);
    if (end === -1 || !parsed.positionals.length) throw usage(command, `gcma ${command} needs a command after --`);
  } else if (parsed.positionals.length !== positionals.length) {
    throw usage(command, `expected ${positionals.join(' ') || 'no arguments'}`);
  }
  return parsed as Args;
}

function usage(command: string | undefined, message: string): UsageError {
  const e = new UsageError(message);
  e.command = command;
  return e;
}

const str = (a: Args, name: string): string | undefined => a.values[name] as string | undefined;
const strs = (a: Args, name: string): string[] => (a.values[name] as string[] | undefined) ?? [];
const flag = (a: Args, name: string): boolean => (a.values[name] as boolean | undefined) ?? false;

/**
 * --kernel BZIMAGE [--kdir DIR]: a kernel built elsewhere, checked for
 * what `use` needs (lib/kernel/external.ts); undefined without --kernel.
 */
function givenKernel(command: string, a: Args, use: KernelUse): KernelBuild | undefined {
  const bzImage = str(a, 'kernel');
  const kdir = str(a, 'kdir') ?? process.env['KDIR'];
  if (bzImage === undefined) {
    if (str(a, 'kdir') !== undefined) throw usage(command, '--kdir goes with --kernel');
    return undefined;
  }
  if (str(a, 'flavour') !== undefined) throw usage(command, '--kernel and --flavour: one or the other');
  if (!kdir) throw usage(command, '--kernel needs --kdir DIR (or $KDIR): the build directory of that kernel');
  return externalKernel(bzImage, kdir, use);
}

async function vm(argv: readonly string[]): Promise<number> {
  const many = { type: 'string', multiple: true } as const;
  const one = { type: 'string' } as const;
  const a = parse(
    'vm',
    argv,
    { memory: one, cpus: one, cmdline: many, disk: many, module: many, results: one, accel: one, timeout: one, flavour: one, kernel: one, kdir: one },
    'command',
  );
  const accel = str(a, 'accel') ?? 'auto';
  if (accel !== 'auto' && accel !== 'kvm' && accel !== 'tcg') throw usage('vm', '--accel must be auto, kvm or tcg');
  const memoryMiB = positiveInt(str(a, 'memory'), '--memory');
  const cpus = positiveInt(str(a, 'cpus'), '--cpus');
  const timeout = positiveInt(str(a, 'timeout'), '--timeout');
  const results = str(a, 'results');
  const flavour = str(a, 'flavour');
  const kernel = givenKernel('vm', a, 'vm') ?? (await buildKernel({ ...(flavour ? { flavour } : {}), log: (m) => console.error(m) }));
  const opts: VmRunOptions = {
    bzImage: kernel.bzImage,
    command: a.positionals,
    accel,
    modules: strs(a, 'module'),
    cmdline: strs(a, 'cmdline'),
    disks: strs(a, 'disk'),
  };
  if (memoryMiB) opts.memoryMiB = memoryMiB;
  if (cpus) opts.cpus = cpus;
  if (timeout) opts.timeoutMs = timeout * 1000;
  if (results) opts.resultsDir = results;
  try {
    const r = await runInVm(opts);
    console.error(`[vm] ${kernel.release} (${r.accel}): exit ${r.exitCode} in ${(r.durationMs / 1000).toFixed(1)}s; results ${r.resultsDir}`);
    return r.exitCode;
  } catch (err) {
    if (err instanceof VmError) {
      console.error(`gcma vm: ${err.message}`);
      return EXIT_VM_FAILED;
    }
    throw err;
  }
}

/** The device and heap commands' options (each takes some), anywhere on the line. */
const DEVICE_OPTIONS: OptionSpec = {
  json: { type: 'boolean' },
  compound: { type: 'boolean' },
  dma: { type: 'boolean' },
  device: { type: 'string' },
  at: { type: 'string' },
  repeat: { type: 'string' },
  hold: { type: 'string' },
};

function deviceArgs(command: string, argv: readonly string[], options: readonly string[], positionals: readonly string[]): Args {
  return parse(command, argv, Object.fromEntries(options.map((o) => [o, DEVICE_OPTIONS[o]!])), positionals);
}

function positiveInt(text: string | undefined, what: string, min = 1): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what} must be ${min ? 'a positive' : 'a non-negative'} integer, not '${text}'`);
  }
  return Number(text);
}

function emit(a: Args, value: unknown, text: () => string): void {
  console.log(flag(a, 'json') ? JSON.stringify(value, null, 2) : text());
}

/** --hold SECONDS: a non-negative number. */
function holdMs(a: Args): number {
  const text = str(a, 'hold');
  const hold = Number(text ?? 0);
  if (!(hold >= 0)) throw new UsageError(`--hold needs a number of seconds, not '${text}'`);
  return hold * 1000;
}

async function deviceCommand(cmd: string, argv: readonly string[]): Promise<number> {
  switch (cmd) {
    case 'areas': {
      const a = deviceArgs(cmd, argv, ['json', 'device'], []);
      using dev = Device.open(str(a, 'device'));
      const rows = listAreas(dev);
      emit(a, rows, () => formatAreas(rows));
      return EXIT.OK;
    }
    case 'register': {
      const a = deviceArgs(cmd, argv, ['json', 'device'], ['NAME', 'PAGES']);
      const [name, pages] = a.positionals as [string, string];
      const count = positiveInt(pages, 'PAGES')!;
      using dev = Device.open(str(a, 'device'));
      const area = dev.register(name, count);
      const row = listAreas(dev).find((r) => r.target === 'gcma' && r.index === area.index);
      emit(a, row, () => formatAreas(row ? [row] : []));
      return EXIT.OK;
    }
    case 'alloc': {
      const a = deviceArgs(cmd, argv, ['json', 'device', 'at', 'compound', 'dma', 'repeat', 'hold'], ['AREA', 'PAGES']);
      const [which, pages] = a.positionals as [string, string];
      const count = positiveInt(pages, 'PAGES')!;
      const hold = holdMs(a);
      const repeat = positiveInt(str(a, 'repeat'), '--repeat') ?? 1;
      const at = str(a, 'at');
      using dev = Device.open(str(a, 'device'));
      const runs = await allocAndFree(resolveArea(dev, which), count, {
        ...(at === undefined ? {} : { at: PfnRange.parse(at).start }),
        compound: flag(a, 'compound'),
        dma: flag(a, 'dma'),
        repeat,
        holdMs: hold,
      });
      emit(a, runs, () => formatRuns(runs));
      return EXIT.OK;
    }
    case 'stats': {
      const a = deviceArgs(cmd, argv, ['json', 'device'], []);
      using dev = Device.open(str(a, 'device'));
      const stats = { areas: listAreas(dev), cleancache: cleancacheStats() };
      emit(a, stats, () =>
        [formatAreas(stats.areas), '', table(['CLEANCACHE', 'VALUE'], Object.entries(stats.cleancache ?? {}).map(([k, v]) => [k, v]))].join('\n'),
      );
      return EXIT.OK;
    }
    case 'session': {
      const a = deviceArgs(cmd, argv, ['json', 'device'], []);
      using dev = Device.open(str(a, 'device'));
      // await: `using` closes the device when this block is left
      return await runSession(dev, process.stdin, { json: flag(a, 'json'), print: (t) => console.log(t) });
    }
  }
  throw new UsageError(`unknown command '${cmd}'`);
}

async function heapCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list') {
    const a = deviceArgs('heap list', rest, ['json'], []);
    const rows = listHeaps();
    emit(a, rows, () => formatHeaps(rows));
    return EXIT.OK;
  }
  if (sub === 'alloc') {
    const a = deviceArgs('heap alloc', rest, ['json', 'hold'], ['NAME', 'SIZE']);
    const [name, size] = a.positionals as [string, string];
    const hold = holdMs(a);
    let bytes: number;
    try {
      bytes = parseBytes(size);
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    const r = await allocFromHeap(name, bytes, hold);
    emit(a, r, () => formatHeapAlloc(r));
    return r.nonZeroBytes ? EXIT.ERROR : EXIT.OK;
  }
  throw usage(undefined, 'gcma heap: expected list or alloc');
}

/**
 * --scratch DIR or --disk DEV with --yes-destroy, one of them (the
 * library checks the place itself: checkPlace()); `who` makes the new
 * filesystem a disk is given for.
 */
function scratchPlace(command: string, a: Args, who: string): DataPlace | undefined {
  const scratch = str(a, 'scratch');
  const disk = str(a, 'disk');
  if (scratch !== undefined && disk !== undefined) throw usage(command, '--scratch or --disk: one or the other');
  if (disk === undefined) {
    if (flag(a, 'yes-destroy')) throw usage(command, '--yes-destroy goes with --disk DEV');
    return scratch === undefined ? undefined : { dir: scratch };
  }
  if (!flag(a, 'yes-destroy')) throw usage(command, `--disk ${disk}: ${who} a new filesystem on it, destroying what it holds; add --yes-destroy to allow it`);
  return { disk };
}

/**
 * gcma bench --here: where its data files go (scratchPlace()); undefined
 * without --here, which the VM's options exclude.
 */
function herePlace(a: Args): DataPlace | undefined {
  if (!flag(a, 'here')) {
    const stray = ['scratch', 'disk', 'yes-destroy'].find((o) => a.values[o] !== undefined);
    if (stray) throw usage('bench', `--${stray} goes with --here (the VM makes its own scratch disk)`);
    return undefined;
  }
  const vmOnly = ['kernel', 'kdir', 'memory'].find((o) => a.values[o] !== undefined);
  if (vmOnly) throw usage('bench', `--${vmOnly} is the VM's: --here runs on this machine's kernel and memory`);
  const place = scratchPlace('bench', a, 'the benchmark makes');
  if (!place) throw usage('bench', '--here needs --scratch DIR (on ext4) or --disk DEV --yes-destroy, one of them');
  return place;
}

async function bench(argv: readonly string[]): Promise<number> {
  const one = { type: 'string' } as const;
  const a = parse(
    'bench',
    argv,
    {
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      area: one,
      sizes: one,
      reps: one,
      rounds: one,
      runs: one,
      'heap-sizes': one,
      'heap-rounds': one,
      seed: one,
      'rt-priority': one,
      duration: one,
      data: one,
      memory: one,
      results: one,
      kernel: one,
      kdir: one,
      here: { type: 'boolean' },
      scratch: one,
      disk: one,
      'yes-destroy': { type: 'boolean' },
    },
    [],
  );
  const place = herePlace(a);
  const kernel = givenKernel('bench', a, 'default');
  const v = a.values as Record<string, string | undefined> & { quick?: boolean; json?: boolean };
  const o: BenchOptions = { ...(v.quick ? QUICK_OPTIONS : DEFAULT_OPTIONS) };
  o.areaMiB = positiveInt(v.area, '--area') ?? o.areaMiB;
  o.reps = positiveInt(v.reps, '--reps') ?? o.reps;
  o.rounds = positiveInt(v.rounds, '--rounds') ?? o.rounds;
  o.throughputRuns = positiveInt(v.runs, '--runs') ?? o.throughputRuns;
  o.durationS = positiveInt(v.duration, '--duration') ?? o.durationS;
  o.dataMiB = positiveInt(v.data, '--data') ?? o.dataMiB;
  o.memoryMiB = positiveInt(v.memory, '--memory') ?? o.memoryMiB;
  if (v.sizes !== undefined) o.sizes = v.sizes.split(',').map((s) => positiveInt(s, '--sizes')!);
  if (v['heap-sizes'] !== undefined) o.heapSizesMiB = v['heap-sizes'].split(',').map((s) => positiveInt(s, '--heap-sizes')!);
  o.heapRounds = positiveInt(v['heap-rounds'], '--heap-rounds') ?? o.heapRounds;
  const seed = positiveInt(v.seed, '--seed', 0);
  if (seed !== undefined) o.seed = seed;
  const rtPriority = positiveInt(v['rt-priority'], '--rt-priority');
  if (rtPriority !== undefined) o.rtPriority = rtPriority;
  if (place) {
    const run = await runBenchHere(o, { place, ...(v.results ? { resultsDir: v.results } : {}) });
    console.log(v.json ? JSON.stringify(run.report, null, 2) : formatReport(run.report));
    console.error(`[bench] report: ${run.resultsDir}/bench.json, ${run.resultsDir}/cdf.svg, ${run.resultsDir}/table.txt`);
    return EXIT.OK;
  }
  const log = (m: string): void => console.error(m);
  // A kernel built elsewhere gets its gcma_test.ko built here; the cache's default kernel uses make module's.
  const built = kernel && (await buildModuleFor(kernel, TEST_MODULE_SOURCE, log));
  const given = built && { kernel, module: built.modules['gcma_test'] ?? `${built.dir}/gcma_test.ko` };
  const run = await runBenchInVm(o, { ...(v.results ? { resultsDir: v.results } : {}), ...given, log });
  console.log(v.json ? JSON.stringify(run.report, null, 2) : formatReport(run.report));
  console.error(`[bench] report: ${run.resultsDir}/bench.json, ${run.resultsDir}/cdf.svg, ${run.resultsDir}/table.txt`);
  return EXIT.OK;
}

async function selftest(argv: readonly string[]): Promise<number> {
  const a = parse('selftest', argv, { scratch: { type: 'string' }, disk: { type: 'string' }, 'yes-destroy': { type: 'boolean' } }, []);
  const place = scratchPlace('selftest', a, 'the suites make');
  try {
    const code = await runSelftest({ place });
    return code === 0 ? EXIT.OK : EXIT.ERROR;
  } catch (err) {
    if (!(err instanceof SelftestRefused)) throw err;
    console.error(`gcma selftest: ${err.message}`);
    return EXIT.NO_DEVICE;
  }
}

async function kernelBuild(argv: readonly string[]): Promise<number> {
  const a = parse('kernel build', argv, { flavour: { type: 'string' }, json: { type: 'boolean' } }, []);
  const flavour = str(a, 'flavour');
  const k = await buildKernel({ ...(flavour ? { flavour } : {}), log: (m) => console.error(m) });
  // make module builds the default flavour's in the checkout; the
  // others get theirs under the cache (the path is logged).
  const built = k.flavour === 'default' ? undefined : await buildModuleFor(k, TEST_MODULE_SOURCE, (m) => console.error(m));
  const facts = { flavour: k.flavour, release: k.release, bzImage: k.bzImage, kdir: k.buildDir, modules: built?.modules ?? {} };
  console.log(flag(a, 'json') ? JSON.stringify(facts, null, 2) : k.bzImage);
  return EXIT.OK;
}

/** The command an argument list names: one word, or two (kernel build, heap list). */
function commandOf(argv: readonly string[]): string | undefined {
  const two = argv.slice(0, 2).join(' ');
  if (two in COMMANDS) return two;
  return argv[0] !== undefined && argv[0] in COMMANDS ? argv[0] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'kernel': {
      if (rest[0] === 'check-series') {
        const flavour = str(parse('kernel check-series', rest.slice(1), { flavour: { type: 'string' } }, []), 'flavour');
        const r = await checkSeriesBuilds(flavour ? { flavour } : {});
        console.log(`every patch builds on its own: ${r.built.length} built now, ${r.cached.length} before`);
        return EXIT.OK;
      }
      if (rest[0] !== 'build') throw usage(undefined, 'gcma kernel: expected build or check-series');
      return kernelBuild(rest.slice(1));
    }
    case 'vm':
      return vm(rest);
    case 'bench':
      return bench(rest);
    case 'status': {
      const a = parse('status', rest, { json: { type: 'boolean' } }, []);
      const s = readStatus();
      console.log(flag(a, 'json') ? JSON.stringify(s, null, 2) : formatStatus(s));
      return EXIT.OK;
    }
    case 'areas':
    case 'register':
    case 'alloc':
    case 'stats':
    case 'session':
      return deviceCommand(cmd, rest);
    case 'heap':
      return heapCommand(rest);
    case 'selftest':
      return selftest(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return cmd === undefined ? EXIT.USAGE : EXIT.OK;
    default:
      throw usage(undefined, `unknown command '${cmd}'`);
  }
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof HelpRequest) {
      console.log(usageOf(err.command));
      process.exit(EXIT.OK);
    }
    if (err instanceof UsageError) {
      // A value checked after parsing names no command: the line's own
      console.error(`gcma: ${err.message}\n${usageOf(err.command ?? commandOf(argv))}`);
      process.exit(EXIT.USAGE);
    }
    console.error(`gcma: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(exitCodeFor(err));
  },
);
