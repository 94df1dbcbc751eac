/**
 * Deterministic file contents for integrity checks: every 4 KiB block
 * starts with its seed and block number, so data from another version of
 * the file or from another offset is told apart from the right data.
 */
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

export const MiB = 1024 * 1024;
const BLOCK = 4096;

const bases = new Map<number, Buffer>();

/** 1 MiB of pseudo-random bytes for a seed (xorshift32), made once. */
function base(seed: number): Buffer {
  let buf = bases.get(seed);
  if (!buf) {
    buf = Buffer.alloc(MiB);
    let x = (seed * 2654435761) >>> 0 || 1;
    for (let i = 0; i < MiB; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      buf.writeUInt32LE(x >>> 0, i);
    }
    bases.set(seed, buf);
  }
  return buf;
}

/** The expected contents of MiB number `chunk` of a file written with `seed`. */
export function chunkData(seed: number, chunk: number): Buffer {
  const buf = Buffer.from(base(seed));
  for (let off = 0; off < MiB; off += BLOCK) {
    buf.writeUInt32LE(seed, off);
    buf.writeUInt32LE(chunk * (MiB / BLOCK) + off / BLOCK, off + 4);
  }
  return buf;
}

/** Write MiB chunks [first, first + count) of `seed` into the file at their offsets. */
export function writeChunks(path: string, seed: number, first: number, count: number): void {
  const fd = openSync(path, 'r+');
  try {
    for (let c = first; c < first + count; c++) writeSync(fd, chunkData(seed, c), 0, MiB, c * MiB);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Compare MiB chunks [first, first + count) with what `expect(chunk)`
 * says they hold; returns the numbers of the chunks that differ.
 */
export function verifyChunks(path: string, first: number, count: number, expect: (chunk: number) => Buffer): number[] {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(MiB);
  const bad: number[] = [];
  try {
    for (let c = first; c < first + count; c++) {
      const n = readSync(fd, buf, 0, MiB, c * MiB);
      if (n !== MiB || !buf.equals(expect(c))) bad.push(c);
    }
  } finally {
    closeSync(fd);
  }
  return bad;
}

/** Read chunks only to bring them into the page cache. */
export function readChunks(path: string, first: number, count: number): void {
  verifyChunks(path, first, count, () => Buffer.alloc(0));
}
