/**
 * The device commands of the gcma CLI: areas, register, alloc, stats and
 * session. Ranges belong to the open file that allocated them and are freed
 * when it closes, so a one-shot `alloc` frees before it exits (after
 * `--hold`), and `free` exists inside a `session`, which keeps one file
 * open across commands read from stdin.
 */
import { createInterface } from 'node:readline';
import { Device, type Area, type AreaStats, type Allocation, type Backing } from './device';
import { DeviceMissingError, GcmaError, invalidArgument, isArgumentError, PermissionDeniedError } from './errors';
import { PfnRange } from './pfn-range';
import { cleancacheStats } from './stats';
import { table } from './util/table';

/** Exit statuses: 0 done; 1 unexpected error; 2 usage (the command line, or an argument the library refused as such); 3 the kernel refused (or the library, knowing it would); 4 no usable device. */
export const EXIT = { OK: 0, ERROR: 1, USAGE: 2, REFUSED: 3, NO_DEVICE: 4 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof DeviceMissingError || err instanceof PermissionDeniedError) return EXIT.NO_DEVICE;
  if (err instanceof GcmaError) return EXIT.REFUSED;
  // A number or name the library refused as an argument: the command line's
  if (isArgumentError(err)) return EXIT.USAGE;
  return EXIT.ERROR;
}

export interface Out {
  json: boolean;
  print(text: string): void;
}

export interface AreaRow extends AreaStats {
  target: string;
  index: number;
  name: string;
  /** What holds its free pages (see Backing in lib/device.ts). */
  backing: Backing;
  /** The default CMA area (cma=). */
  default: boolean;
  range: string;
  pages: number;
}

function areaRow(a: Area): AreaRow {
  return { target: a.target, index: a.index, name: a.name, backing: a.backing, default: a.isDefault, range: a.range.format(), pages: a.pages, ...a.stats() };
}

/** GCMA areas, then CMA areas. */
export function listAreas(dev: Device): AreaRow[] {
  return [...dev.areas(), ...dev.cmaAreas()].map(areaRow);
}

export function formatAreas(rows: readonly AreaRow[]): string {
  return table(
    ['TARGET', 'INDEX', 'NAME', 'BACKING', 'PFNS', 'PAGES', 'ALLOCATED', 'CACHED', 'ALLOCS', 'FAILS', 'OWNED'],
    rows.map((r) => [
      r.target,
      r.index,
      r.default ? `${r.name} (default)` : r.name,
      r.backing,
      r.range,
      r.pages,
      r.allocated,
      r.cached,
      r.allocations,
      r.failures,
      r.owned,
    ]),
  );
}

/**
 * AREA on the command line: a GCMA area's name or index; `cma`, the
 * default CMA area; `cma:NAME` or `cma:INDEX`, any CMA area.
 */
export function resolveArea(dev: Device, which: string): Area {
  if (which === 'cma') return dev.cmaArea();
  if (which.startsWith('cma:')) {
    const rest = which.slice(4);
    return /^\d+$/.test(rest) ? dev.cmaArea(Number(rest)) : dev.cmaArea(rest);
  }
  return /^\d+$/.test(which) ? dev.area(Number(which)) : dev.area(which);
}

function parseCount(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw invalidArgument(`${what} must be a positive integer, not '${text}'`);
  return n;
}

function parsePfn(text: string): number {
  return PfnRange.parse(text).start;
}

export interface AllocRun {
  area: string;
  range: string;
  pages: number;
  allocNs: number;
  freeNs: number;
}

export async function allocAndFree(
  area: Area,
  pages: number,
  opts: { at?: number; compound?: boolean; dma?: boolean; repeat: number; holdMs: number },
): Promise<AllocRun[]> {
  const runs: AllocRun[] = [];
  for (let i = 0; i < opts.repeat; i++) {
    const a: Allocation = await area.allocAsync(pages, {
      ...(opts.at === undefined ? {} : { at: opts.at }),
      ...(opts.compound ? { compound: true } : {}),
      ...(opts.dma ? { dma: true } : {}),
    });
    if (opts.holdMs > 0) await new Promise((r) => setTimeout(r, opts.holdMs));
    const f = await a.freeAsync();
    runs.push({ area: area.name, range: a.range.format(), pages, allocNs: a.kernelNs, freeNs: f.kernelNs });
  }
  return runs;
}

export function formatRuns(runs: readonly AllocRun[]): string {
  // Times with one decimal always (309.0, not 309): a column reads alike
  return table(
    ['AREA', 'PFNS', 'PAGES', 'ALLOC_US', 'FREE_US'],
    runs.map((r) => [r.area, r.range, r.pages, (r.allocNs / 1000).toFixed(1), (r.freeNs / 1000).toFixed(1)]),
    ['left', 'left', 'right', 'right', 'right'],
  );
}

/**
 * One line of a session: `areas`, `register NAME PAGES`,
 * `alloc AREA PAGES [at=PFN] [compound] [dma]`, `free RANGE|last`, `stats`.
 * Allocations stay held until freed or the session ends.
 */
export async function sessionCommand(dev: Device, held: Map<string, Allocation>, line: string): Promise<unknown> {
  const [cmd, ...args] = line.trim().split(/\s+/);
  switch (cmd) {
    case 'areas':
      return listAreas(dev);
    case 'register': {
      if (args.length !== 2) throw invalidArgument('usage: register NAME PAGES');
      const a = await dev.registerAsync(args[0]!, parseCount(args[1]!, 'PAGES'));
      return areaRow(a);
    }
    case 'alloc': {
      if (args.length < 2) throw invalidArgument('usage: alloc AREA PAGES [at=PFN] [compound] [dma]');
      const area = resolveArea(dev, args[0]!);
      let at: number | undefined;
      let compound = false;
      let dma = false;
      for (const opt of args.slice(2)) {
        if (opt === 'compound') compound = true;
        else if (opt === 'dma') dma = true;
        else if (opt.startsWith('at=')) at = parsePfn(opt.slice(3));
        else throw invalidArgument(`unknown alloc option '${opt}'`);
      }
      const a = await area.allocAsync(parseCount(args[1]!, 'PAGES'), { ...(at === undefined ? {} : { at }), compound, dma });
      held.set(a.range.format(), a);
      return { area: area.name, range: a.range.format(), start: a.range.start, count: a.range.count, kernelNs: a.kernelNs };
    }
    case 'free': {
      if (args.length !== 1) throw invalidArgument('usage: free RANGE|last (RANGE as alloc printed it, e.g. 0x1000-0x100f)');
      const range = args[0] === 'last' ? [...held.values()].at(-1)?.range : PfnRange.parse(args[0]!);
      const a = range && held.get(range.format());
      if (!range || !a) throw invalidArgument(`this session holds no allocation ${range?.format() ?? '(none left)'}`);
      const f = await a.freeAsync();
      held.delete(range.format());
      return { range: f.range.format(), kernelNs: f.kernelNs };
    }
    case 'stats':
      return { areas: listAreas(dev), cleancache: cleancacheStats() };
    default:
      throw invalidArgument(`unknown session command '${cmd}' (areas, register, alloc, free, stats)`);
  }
}

/** Read commands from `input` until it ends; one JSON line (or text) out per command. */
export async function runSession(dev: Device, input: NodeJS.ReadableStream, out: Out): Promise<number> {
  const held = new Map<string, Allocation>();
  let status: number = EXIT.OK;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    try {
      const result = await sessionCommand(dev, held, line);
      out.print(out.json ? JSON.stringify({ ok: true, command: line.trim(), result }) : `${line.trim()}: ${JSON.stringify(result)}`);
    } catch (err) {
      status = Math.max(status, exitCodeFor(err));
      const e = err as Partial<GcmaError> & Error;
      out.print(
        out.json
          ? JSON.stringify({ ok: false, command: line.trim(), error: { name: e.name, code: e.code, errno: e.errno, message: e.message } })
          : `${line.trim()}: ${e.message}`,
      );
    }
  }
  return status;
}
