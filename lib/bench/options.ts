/**
 * Benchmark options: what the main job measures, and the quick mode the
 * test command runs. The same object goes from the host to the guest.
 */
import { argValueError, checkInteger, outOfRange } from '../errors';

export interface BenchOptions {
  /**
   * GCMA area, carved out of the CMA reservation; the plain CMA area left is
   * as large, and so is the guaranteed CMA area declared next to it.
   */
  areaMiB: number;
  /** Request sizes in pages (the GCMA RFC's: 1 .. 32000). */
  sizes: number[];
  /** Allocations per size and allocator in each round under pressure. */
  reps: number;
  /** Rounds of the pressure phase, one after another in the same boot. */
  rounds: number;
  /** Allocations per size for the floor (an area holding no cached data). */
  floorReps: number;
  /** Seconds each throughput run reads files. */
  durationS: number;
  /** Runs of each throughput workload and configuration, interleaved. */
  throughputRuns: number;
  /** Data files, MiB in all: larger than the guest's memory. */
  dataMiB: number;
  /** Guest memory. */
  memoryMiB: number;
  /** dma-buf heap buffer sizes, MiB (camera-sized), each at most the area. */
  heapSizesMiB: number[];
  /** Allocations per heap buffer size, from each heap, from C and from JavaScript. */
  heapRounds: number;
  /** Seed of the random order the allocators are measured in; default: from the clock, recorded in the report. */
  seed?: number;
  /**
   * Allocate under pressure from a SCHED_FIFO thread of this priority
   * (1-99), as a camera HAL's request thread might; the pressure's tasks
   * stay SCHED_OTHER. Default: SCHED_OTHER, like them.
   */
  rtPriority?: number;
  quick: boolean;
}

export const RFC_SIZES = [1, 64, 1024, 8192, 32000];
/** A camera's buffers: a frame from 1080p to 8K, a few frames. */
export const CAMERA_SIZES_MIB = [1, 4, 8, 32, 64];

export const DEFAULT_OPTIONS: BenchOptions = {
  areaMiB: 128,
  sizes: RFC_SIZES,
  reps: 100,
  rounds: 3,
  floorReps: 20,
  durationS: 10,
  throughputRuns: 3,
  dataMiB: 1536,
  memoryMiB: 1024,
  heapSizesMiB: CAMERA_SIZES_MIB,
  heapRounds: 10,
  quick: false,
};

/** Small and short, for the test command; still more data than memory. */
export const QUICK_OPTIONS: BenchOptions = {
  areaMiB: 16,
  sizes: [1, 64, 1024],
  reps: 4,
  rounds: 3,
  floorReps: 3,
  durationS: 2,
  throughputRuns: 1,
  dataMiB: 640,
  memoryMiB: 512,
  heapSizesMiB: [1, 4],
  heapRounds: 1,
  quick: true,
};

/** Name of the guaranteed CMA area the benchmark boots with. */
export const GUARANTEED_AREA = 'bench-guaranteed';

/**
 * The kernel parameters: a CMA reservation holding the GCMA area and the
 * plain CMA area, and a guaranteed CMA area of the same size.
 */
export function cmaParameters(o: BenchOptions): string[] {
  return [`cma=${2 * o.areaMiB}M`, `gcma=${GUARANTEED_AREA}:${o.areaMiB}M`];
}

export function checkOptions(o: BenchOptions): BenchOptions {
  const positive = (name: string, v: number): void => void checkInteger(name, v, 1, Number.MAX_SAFE_INTEGER);
  positive('areaMiB', o.areaMiB);
  positive('reps', o.reps);
  positive('rounds', o.rounds);
  positive('throughputRuns', o.throughputRuns);
  positive('floorReps', o.floorReps);
  positive('durationS', o.durationS);
  positive('dataMiB', o.dataMiB);
  positive('memoryMiB', o.memoryMiB);
  positive('heapRounds', o.heapRounds);
  if (o.seed !== undefined) checkInteger('seed', o.seed, 0, 2 ** 32 - 1);
  if (o.rtPriority !== undefined) checkInteger('rtPriority', o.rtPriority, 1, 99);
  if (o.sizes.length === 0) throw argValueError('sizes', 'must name at least one request size', o.sizes);
  o.heapSizesMiB.forEach((s, i) => checkInteger(`heapSizesMiB[${i}]`, s, 1, o.areaMiB));
  const areaPages = (o.areaMiB * 1024 * 1024) / 4096;
  o.sizes.forEach((s, i) => checkInteger(`sizes[${i}]`, s, 1, areaPages));
  if (3 * o.areaMiB >= o.memoryMiB / 2) throw outOfRange('memoryMiB', `more than 6 x areaMiB (${6 * o.areaMiB}): three ${o.areaMiB} MiB areas in at most half the guest`, o.memoryMiB);
  return o;
}
