import { createHash } from 'node:crypto';

export interface NamedText {
  name: string;
  text: string;
}

/** A short, stable hash of named inputs: order and names matter, not mtimes. */
export function inputsKey(parts: ReadonlyArray<string | NamedText>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    if (typeof p === 'string') h.update(`s:${p.length}:${p}\n`);
    else h.update(`f:${p.name}:${p.text.length}:${p.text}\n`);
  }
  return h.digest('hex').slice(0, 16);
}
