import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The checkout this module was loaded from (compiled code lives in dist/lib). */
export function projectRoot(): string {
  let dir = resolve(__dirname);
  while (!existsSync(join(dir, 'package.json'))) {
    const up = resolve(dir, '..');
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** Where kernel sources and builds are cached, outside the checkout. */
export function cacheRoot(): string {
  return process.env['GCMA_CACHE'] ?? '/var/cache/gcma';
}
