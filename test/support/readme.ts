/** The README's examples, marked `<!-- example: NAME ... -->` before their code block. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReadmeExample {
  code: string;
  /** The plain code block right after it ("prints ..."), if any. */
  output: string | null;
}

export function readmeExample(root: string, name: string): ReadmeExample {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  const at = text.indexOf(`<!-- example: ${name} `);
  if (at < 0) throw new Error(`README.md has no example '${name}'`);
  const blocks = [...text.slice(at).matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)];
  const code = blocks[0];
  if (!code) throw new Error(`README example '${name}' has no code block`);
  const next = blocks[1];
  const between = next ? text.slice(at).slice(code.index! + code[0].length, next.index) : '';
  const output = next && next[1] === '' && !between.includes('<!--') && between.trim().length < 80 ? next[2]! : null;
  return { code: code[2]!, output };
}

/** Lines with every number (hex or decimal) replaced by '#': what must match between runs. */
export function shape(text: string): string[] {
  return text
    .trim()
    .split('\n')
    .map((l) => l.replace(/0x[0-9a-f]+|\d+/g, '#'));
}
