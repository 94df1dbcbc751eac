/**
 * Out-of-tree modules for a kernel flavour other than the one the checkout
 * builds in place (make module): Kbuild in 6.12 writes objects next to the
 * sources, so each flavour gets its own copy of them under the cache,
 *
 *   $GCMA_CACHE/module/<flavour>/<name>/
 *   $GCMA_CACHE/module/external/<KDIR key>/<name>/   a kernel built elsewhere
 *
 * and make there rebuilds only what changed (files whose content is the
 * same keep their mtime).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { cacheRoot, projectRoot } from '../paths';
import type { KernelBuild } from './build';
import { inputsKey } from './cache';
import { CommandError, exec } from '../util/exec';
import { withCacheLock } from './lock';

export interface ModuleSource {
  /** Directory name under $GCMA_CACHE/module/<flavour>/. */
  name: string;
  /** The checkout directory that becomes the module directory (holds its Kbuild); default the top. */
  base?: string;
  /** Files and directories under base, copied with their paths. */
  files: readonly string[];
}

/** The top-level Kbuild's modules: gcma_test.ko (with the uapi header), and gcma_vendor_heap.ko where the kernel has dma-buf heaps and gen_pool. */
export const TEST_MODULE_SOURCE: ModuleSource = {
  name: 'gcma_test',
  files: ['Kbuild', 'kernel/module/gcma_test.c', 'kernel/module/gcma_vendor_heap.c', 'kernel/include/uapi/linux/gcma_test.h'],
};

const BUILD_OUTPUT = /\.(o|ko|mod|mod\.c|cmd|symvers|order)$|^\.tmp_versions$/;

function sourceFiles(root: string, path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full)
    .filter((f) => !BUILD_OUTPUT.test(f))
    .flatMap((f) => sourceFiles(root, join(path, f)));
}

/** Copy the sources into dir; a file whose content is unchanged is left alone. */
export function syncSources(src: ModuleSource, dir: string, top = projectRoot()): void {
  const root = join(top, src.base ?? '.');
  for (const rel of src.files.flatMap((p) => sourceFiles(root, p))) {
    const text = readFileSync(join(root, rel));
    const dest = join(dir, rel);
    if (existsSync(dest) && readFileSync(dest).equals(text)) continue;
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, text);
  }
}

export interface BuiltModule {
  dir: string;
  /** Every .ko built, by file name without the extension. */
  modules: Record<string, string>;
}

function findModules(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (f.endsWith('.ko')) out[f.replace(/^.*\//, '').replace(/\.ko$/, '')] = join(dir, f);
  }
  return out;
}

/** Build the sources against a kernel build; a compiler warning fails it. */
export function buildModuleFor(kernel: KernelBuild, src: ModuleSource, log: (m: string) => void = console.log): Promise<BuiltModule> {
  return withCacheLock(() => buildModule(kernel, src, log), log);
}

/** Where a kernel's modules are built: by flavour for the cache's kernels, by KDIR for one built elsewhere (two must not share objects). */
export function moduleDir(kernel: KernelBuild, src: ModuleSource): string {
  const kernelDir = kernel.external ? join('external', inputsKey([kernel.buildDir])) : kernel.flavour;
  return join(cacheRoot(), 'module', kernelDir, src.name);
}

async function buildModule(kernel: KernelBuild, src: ModuleSource, log: (m: string) => void): Promise<BuiltModule> {
  const dir = moduleDir(kernel, src);
  mkdirSync(dir, { recursive: true });
  syncSources(src, dir);
  const logFile = join(dir, 'build.log');
  writeFileSync(logFile, '');
  try {
    await exec('make', ['-C', kernel.buildDir, `M=${dir}`, 'KCFLAGS=-Werror', 'modules'], { logFile });
  } catch (err) {
    const detail = err instanceof CommandError ? `\n${err.tail}` : '';
    throw new Error(`${src.name} does not build against ${kernel.external ? kernel.release : `the ${kernel.flavour} kernel`} (${kernel.buildDir})${detail}`);
  }
  const modules = findModules(dir);
  if (Object.keys(modules).length === 0) throw new Error(`${src.name}: make built no .ko in ${dir}`);
  log(`[module] ${Object.values(modules).map((m) => relative(cacheRoot(), m)).join(', ')} for ${kernel.release} (${kernel.flavour})`);
  return { dir, modules };
}

