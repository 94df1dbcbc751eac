#!/usr/bin/env node
/**
 * gcma command line.
 *
 *   gcma kernel build [--flavour NAME]      build (or reuse) the patched kernel
 *   gcma kernel check-series [--flavour NAME] build after each patch of the series
 *   gcma vm [options] -- COMMAND [ARG...]   boot it under QEMU and run COMMAND
 *   gcma status [--json]                    what this kernel has of GCMA
 *   gcma areas|register|alloc|stats|session the test device (lib/device-cli.ts)
 *   gcma heap list|alloc                    dma-buf heaps (lib/heap-cli.ts)
 *   gcma bench [options]                    GCMA vs CMA under pressure, in the VM
 *
 * Exit status: 0 success; 1 error; 2 usage; 3 the kernel (or the library
 * before it) refused a device command; 4 no usable device (module not
 * loaded, not root); for `vm`, the guest command's own status, or 125 when
 * the VM itself failed (no boot, timeout, kernel panic/oops/WARN).
 */
import { parseArgs } from 'node:util';
import { buildKernel, FLAVOURS } from './kernel/build';
import { checkSeriesBuilds } from './kernel/series-check';
import { buildModuleFor, TEST_MODULE_SOURCE } from './kernel/module';
import { DEFAULT_OPTIONS, QUICK_OPTIONS, type BenchOptions } from './bench/options';
import { runBenchInVm } from './bench/host';
import { formatReport } from './bench/report';
import { Device } from './device';
import { allocAndFree, EXIT, exitCodeFor, formatAreas, formatRuns, listAreas, resolveArea, runSession } from './device-cli';
import { table } from './util/table';
import { GcmaError } from './errors';
import { allocFromHeap, formatHeapAlloc, formatHeaps, listHeaps, parseBytes } from './heap-cli';
import { PfnRange } from './pfn-range';
import { cleancacheStats } from './stats';
import { formatStatus, readStatus } from './status';
import { runInVm, VmError, type VmRunOptions } from './vm/runner';

export const EXIT_VM_FAILED = 125;

class UsageError extends Error {}

const USAGE = `usage:
  gcma kernel build [--flavour ${Object.keys(FLAVOURS).join('|')}]
  gcma kernel check-series [--flavour ${Object.keys(FLAVOURS).join('|')}]
  gcma vm [--memory MiB] [--cpus N] [--cmdline PARAM]... [--disk IMG]...
          [--module KO]... [--results DIR] [--accel auto|kvm|tcg]
          [--timeout SECONDS] [--flavour NAME] -- COMMAND [ARG...]
  gcma status [--json]
  gcma areas [--json] [--device PATH]
  gcma register NAME PAGES [--json] [--device PATH]
  gcma alloc AREA PAGES [--at PFN] [--compound] [--dma] [--repeat N]
             [--hold SECONDS] [--json] [--device PATH]   (frees on exit; AREA: a
             GCMA area's name or index, cma (the default CMA area), cma:NAME or
             cma:INDEX; --dma: dma_alloc_coherent() on a CMA area's device)
  gcma stats [--json] [--device PATH]
  gcma heap list [--json]                 the dma-buf heaps (/dev/dma_heap)
  gcma heap alloc NAME SIZE [--hold SECONDS] [--json]
             (SIZE in bytes, or with K, M, G; checks the buffer is zeroed,
             closes it on exit)
  gcma bench [--quick] [--area MiB] [--sizes 1,64,...] [--reps N] [--rounds N]
             [--duration S] [--runs N] [--data MiB] [--memory MiB]
             [--heap-sizes 1,4,...(MiB)]
             [--heap-rounds N] [--seed N] [--rt-priority N] [--results DIR] [--json]
             (--seed: of the allocators' random order; default from the
             clock, in the report; --rt-priority: allocate under pressure
             from a SCHED_FIFO thread of priority N, 1-99)
  gcma session [--json] [--device PATH]   commands on stdin: areas, stats,
             register NAME PAGES, alloc AREA PAGES [at=PFN] [compound] [dma],
             free RANGE|last`;

interface Parsed {
  flags: Map<string, string[]>;
  rest: string[];
}

/** --name value pairs up to `--`; everything after `--` is the command. */
function parseFlags(argv: readonly string[], known: readonly string[], booleans: readonly string[] = []): Parsed {
  const flags = new Map<string, string[]>();
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('--')) break;
    const name = a.slice(2);
    if (booleans.includes(name)) {
      flags.set(name, ['true']);
      continue;
    }
    if (!known.includes(name)) throw new UsageError(`unknown option ${a}`);
    const value = argv[++i];
    if (value === undefined) throw new UsageError(`${a} needs a value`);
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { flags, rest: argv.slice(i) };
}

function intFlag(p: Parsed, name: string): number | undefined {
  const v = p.flags.get(name)?.at(-1);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} needs a positive integer, not '${v}'`);
  return n;
}

async function vm(argv: readonly string[]): Promise<number> {
  const p = parseFlags(argv, ['memory', 'cpus', 'cmdline', 'disk', 'module', 'results', 'accel', 'timeout', 'flavour']);
  if (p.rest.length === 0) throw new UsageError('gcma vm needs a command after --');
  const accel = p.flags.get('accel')?.at(-1) ?? 'auto';
  if (accel !== 'auto' && accel !== 'kvm' && accel !== 'tcg') throw new UsageError(`--accel must be auto, kvm or tcg`);
  const flavour = p.flags.get('flavour')?.at(-1);
  const kernel = await buildKernel({ ...(flavour ? { flavour } : {}), log: (m) => console.error(m) });
  const opts: VmRunOptions = {
    bzImage: kernel.bzImage,
    command: p.rest,
    accel,
    modules: p.flags.get('module') ?? [],
    cmdline: p.flags.get('cmdline') ?? [],
    disks: p.flags.get('disk') ?? [],
  };
  const memoryMiB = intFlag(p, 'memory');
  const cpus = intFlag(p, 'cpus');
  const timeout = intFlag(p, 'timeout');
  const results = p.flags.get('results')?.at(-1);
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

interface DeviceArgs {
  positionals: string[];
  values: { json?: boolean; compound?: boolean; dma?: boolean; device?: string; at?: string; repeat?: string; hold?: string };
}

/** Device commands take their options anywhere on the line. */
function deviceArgs(argv: readonly string[], options: ReadonlyArray<keyof DeviceArgs['values']>, positionals: readonly string[]): DeviceArgs {
  const spec: Record<string, { type: 'boolean' | 'string' }> = {};
  for (const o of options) spec[o] = { type: o === 'json' || o === 'compound' || o === 'dma' ? 'boolean' : 'string' };
  let parsed: DeviceArgs;
  try {
    parsed = parseArgs({ args: [...argv], options: spec, allowPositionals: true, strict: true }) as DeviceArgs;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (parsed.positionals.length !== positionals.length) throw new UsageError(`expected ${positionals.join(' ') || 'no arguments'}`);
  return parsed;
}

function positiveInt(text: string | undefined, what: string, min = 1): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what} must be ${min ? 'a positive' : 'a non-negative'} integer, not '${text}'`);
  }
  return Number(text);
}

function emit(a: DeviceArgs, value: unknown, text: () => string): void {
  console.log(a.values.json ? JSON.stringify(value, null, 2) : text());
}

async function deviceCommand(cmd: string, argv: readonly string[]): Promise<number> {
  switch (cmd) {
    case 'areas': {
      const a = deviceArgs(argv, ['json', 'device'], []);
      using dev = Device.open(a.values.device);
      const rows = listAreas(dev);
      emit(a, rows, () => formatAreas(rows));
      return EXIT.OK;
    }
    case 'register': {
      const a = deviceArgs(argv, ['json', 'device'], ['NAME', 'PAGES']);
      const [name, pages] = a.positionals as [string, string];
      const count = positiveInt(pages, 'PAGES')!;
      using dev = Device.open(a.values.device);
      const area = dev.register(name, count);
      const row = listAreas(dev).find((r) => r.target === 'gcma' && r.index === area.index);
      emit(a, row, () => formatAreas(row ? [row] : []));
      return EXIT.OK;
    }
    case 'alloc': {
      const a = deviceArgs(argv, ['json', 'device', 'at', 'compound', 'dma', 'repeat', 'hold'], ['AREA', 'PAGES']);
      const [which, pages] = a.positionals as [string, string];
      const count = positiveInt(pages, 'PAGES')!;
      const hold = Number(a.values.hold ?? 0);
      if (!(hold >= 0)) throw new UsageError(`--hold needs a number of seconds, not '${a.values.hold}'`);
      using dev = Device.open(a.values.device);
      const runs = await allocAndFree(resolveArea(dev, which), count, {
        ...(a.values.at === undefined ? {} : { at: PfnRange.parse(a.values.at).start }),
        compound: a.values.compound ?? false,
        dma: a.values.dma ?? false,
        repeat: positiveInt(a.values.repeat, '--repeat') ?? 1,
        holdMs: hold * 1000,
      });
      emit(a, runs, () => formatRuns(runs));
      return EXIT.OK;
    }
    case 'stats': {
      const a = deviceArgs(argv, ['json', 'device'], []);
      using dev = Device.open(a.values.device);
      const stats = { areas: listAreas(dev), cleancache: cleancacheStats() };
      emit(a, stats, () =>
        [formatAreas(stats.areas), '', table(['CLEANCACHE', 'VALUE'], Object.entries(stats.cleancache ?? {}).map(([k, v]) => [k, v]))].join('\n'),
      );
      return EXIT.OK;
    }
    case 'session': {
      const a = deviceArgs(argv, ['json', 'device'], []);
      using dev = Device.open(a.values.device);
      // await: `using` closes the device when this block is left
      return await runSession(dev, process.stdin, { json: a.values.json ?? false, print: (t) => console.log(t) });
    }
  }
  throw new UsageError(`unknown command '${cmd}'`);
}

async function heapCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list') {
    const a = deviceArgs(rest, ['json'], []);
    const rows = listHeaps();
    emit(a, rows, () => formatHeaps(rows));
    return EXIT.OK;
  }
  if (sub === 'alloc') {
    const a = deviceArgs(rest, ['json', 'hold'], ['NAME', 'SIZE']);
    const [name, size] = a.positionals as [string, string];
    const hold = Number(a.values.hold ?? 0);
    if (!(hold >= 0)) throw new UsageError(`--hold needs a number of seconds, not '${a.values.hold}'`);
    let bytes: number;
    try {
      bytes = parseBytes(size);
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    const r = await allocFromHeap(name, bytes, hold * 1000);
    emit(a, r, () => formatHeapAlloc(r));
    return r.nonZeroBytes ? EXIT.ERROR : EXIT.OK;
  }
  throw new UsageError('gcma heap: expected list or alloc');
}

async function bench(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean' },
        json: { type: 'boolean' },
        area: { type: 'string' },
        sizes: { type: 'string' },
        reps: { type: 'string' },
        rounds: { type: 'string' },
        runs: { type: 'string' },
        'heap-sizes': { type: 'string' },
        'heap-rounds': { type: 'string' },
        seed: { type: 'string' },
        'rt-priority': { type: 'string' },
        duration: { type: 'string' },
        data: { type: 'string' },
        memory: { type: 'string' },
        results: { type: 'string' },
      },
      strict: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
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
  const run = await runBenchInVm(o, { ...(v.results ? { resultsDir: v.results } : {}), log: (m) => console.error(m) });
  console.log(v.json ? JSON.stringify(run.report, null, 2) : formatReport(run.report));
  console.error(`[bench] report: ${run.resultsDir}/bench.json, ${run.resultsDir}/cdf.svg, ${run.resultsDir}/table.txt`);
  return EXIT.OK;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'kernel': {
      if (rest[0] === 'check-series') {
        const flavour = parseFlags(rest.slice(1), ['flavour']).flags.get('flavour')?.at(-1);
        const r = await checkSeriesBuilds(flavour ? { flavour } : {});
        console.log(`every patch builds on its own: ${r.built.length} built now, ${r.cached.length} before`);
        return 0;
      }
      if (rest[0] !== 'build') throw new UsageError('gcma kernel: expected build or check-series');
      const p = parseFlags(rest.slice(1), ['flavour']);
      const flavour = p.flags.get('flavour')?.at(-1);
      const k = await buildKernel(flavour ? { flavour } : {});
      // make module builds the default flavour's in the checkout; the
      // others get theirs under the cache (the path is logged).
      if (k.flavour !== 'default') await buildModuleFor(k, TEST_MODULE_SOURCE, (m) => console.error(m));
      console.log(k.bzImage);
      return 0;
    }
    case 'vm':
      return vm(rest);
    case 'bench':
      return bench(rest);
    case 'status': {
      const p = parseFlags(rest, [], ['json']);
      const s = readStatus();
      console.log(p.flags.has('json') ? JSON.stringify(s, null, 2) : formatStatus(s));
      return 0;
    }
    case 'areas':
    case 'register':
    case 'alloc':
    case 'stats':
    case 'session':
      return deviceCommand(cmd, rest);
    case 'heap':
      return heapCommand(rest);
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`gcma: ${err.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`gcma: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof GcmaError ? exitCodeFor(err) : 1);
  },
);
