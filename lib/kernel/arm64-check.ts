/**
 * The series' device-tree side builds too: x86 has no device tree, so
 * rmem_cma_setup()'s `guarantee` property (kernel/dma/contiguous.c) and the
 * rest of GCMA are compiled for arm64, with CONFIG_OF and GCMA, by the
 * series check. Objects, not a linked kernel: the files the series adds or
 * changes in mm/ and kernel/dma/, about 40 s with `make prepare`, instead of
 * a whole arm64 kernel. Clang and lld (LLVM=1) rather than Debian's
 * gcc-aarch64-linux-gnu, whose installation removes gcc-multilib (the -m32
 * uapi layout test needs it). Remembered, like the series' prefixes, by the
 * source version, the series and the config.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../paths';
import { CommandError, exec } from '../util/exec';
import { COMPILER_WARNING, configure, makeArgs } from './build';
import { inputsKey, type NamedText } from './cache';

/** What the series adds or changes that an arm64 build compiles differently. */
export const ARM64_OBJECTS = ['mm/cleancache.o', 'mm/gcma.o', 'mm/cma.o', 'kernel/dma/contiguous.o'];
/** Without these the objects would not contain what the check is for. */
export const ARM64_REQUIRED = ['CONFIG_OF', 'CONFIG_OF_RESERVED_MEM', 'CONFIG_DMA_CMA', 'CONFIG_CMA', 'CONFIG_GCMA', 'CONFIG_CLEANCACHE'];
const ARM64 = ['ARCH=arm64', 'LLVM=1'];

export interface Arm64CheckInputs {
  sourceDir: string;
  sourceVersion: string;
  /** The config fragments' paths and texts. */
  fragments: readonly string[];
  configTexts: readonly NamedText[];
  patchTexts: readonly NamedText[];
  jobs: number;
  logFile: string;
}

/** The key under which the series check remembers a passed arm64 check: its inputs, and what it compiles and requires. */
export function arm64Key(i: Pick<Arm64CheckInputs, 'sourceVersion' | 'configTexts' | 'patchTexts'>): string {
  const check = [...ARM64, ...ARM64_OBJECTS, ...ARM64_REQUIRED].join(' ');
  return `arm64:${inputsKey([i.sourceVersion, check, ...i.configTexts, ...i.patchTexts])}`;
}

/** Compile ARM64_OBJECTS for arm64 in the source tree as it is (the whole series); throws on an error or a warning. */
export async function checkArm64Objects(i: Arm64CheckInputs, log: (msg: string) => void): Promise<void> {
  const buildDir = join(cacheRoot(), 'build', 'arm64-objects');
  const t0 = Date.now();
  await configure(i.sourceDir, buildDir, i.fragments, i.logFile, ARM64);
  const config = readFileSync(join(buildDir, '.config'), 'utf8');
  const missing = ARM64_REQUIRED.filter((o) => !new RegExp(`^${o}=y$`, 'm').test(config));
  if (missing.length) throw new Error(`the arm64 config lacks ${missing.join(', ')} (log: ${i.logFile})`);
  // Compiled every time: an object left from a run that warned would not warn again.
  for (const o of ARM64_OBJECTS) rmSync(join(buildDir, o), { force: true });
  const warnings: string[] = [];
  try {
    await exec('make', makeArgs(i.sourceDir, buildDir, ...ARM64, `-j${i.jobs}`, ...ARM64_OBJECTS), {
      logFile: i.logFile,
      onLine: (l) => {
        if (COMPILER_WARNING.test(l)) warnings.push(l);
      },
    });
  } catch (err) {
    const detail = err instanceof CommandError ? `\n${err.tail}` : '';
    throw new Error(`the series does not compile for arm64 (log: ${i.logFile})${detail}`);
  }
  if (warnings.length) throw new Error(`the series compiles for arm64 with warnings (log: ${i.logFile}):\n${warnings.slice(0, 20).join('\n')}`);
  const absent = ARM64_OBJECTS.filter((o) => !existsSync(join(buildDir, o)));
  if (absent.length) throw new Error(`arm64: make built no ${absent.join(', ')} (log: ${i.logFile})`);
  log(`[series] arm64 (clang, CONFIG_OF, GCMA): ${ARM64_OBJECTS.join(' ')} compiled in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
