/** The README's examples, marked `<!-- example: NAME ... -->` before their code block. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

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

/**
 * A TypeScript example as a program: `from 'gcma'` imports `gcma` (a
 * path: the checkout's lib/index, .ts to type-check or compiled .js to
 * run), the rest in an async body (the README's top-level await).
 */
export function exampleProgram(code: string, gcma: string): string {
  const body = code.replace(/from 'gcma'/, `from ${JSON.stringify(gcma)}`);
  const imports = body.split('\n').filter((l) => l.startsWith('import '));
  const rest = body.split('\n').filter((l) => !l.startsWith('import '));
  return `${imports.join('\n')}\n(async () => {\n${rest.join('\n')}\n})().catch((e) => { console.error(e); process.exit(1); });\n`;
}

export interface ConsoleStep {
  /** The line after `$ `. */
  command: string;
  /** What the README shows it printed. */
  output: string[];
}

/** A `console` example: `$ COMMAND` lines, each followed by what it printed. */
export function consoleExample(root: string, name: string): ConsoleStep[] {
  const { code } = readmeExample(root, name);
  const steps: ConsoleStep[] = [];
  for (const line of code.replace(/\n$/, '').split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
    else if (steps.length) steps.at(-1)!.output.push(line);
    else throw new Error(`README example '${name}': output before the first $ line: ${line}`);
  }
  return steps;
}

/**
 * The lines of `shown` (a README's output) that `printed` does not have in
 * shape, in order: numbers are '#' and runs of blanks one (a table's
 * columns widen with its values), a shown line ending in `...` matches a
 * printed one that starts like it, and printed lines may come in between
 * (another suite's areas in a listing).
 */
export function missingInShape(shown: readonly string[], printed: readonly string[]): string[] {
  const norm = (lines: readonly string[]): string[] => shape(lines.join('\n')).map((l) => l.replace(/\s+/g, ' ').trim());
  const want = norm(shown);
  const have = norm(printed);
  const missing: string[] = [];
  let at = 0;
  want.forEach((w, i) => {
    const prefix = w.includes('...') ? w.slice(0, w.indexOf('...')) : undefined;
    const found = have.findIndex((h, j) => j >= at && (prefix === undefined ? h === w : h.startsWith(prefix)));
    if (found < 0) missing.push(shown[i]!);
    else at = found + 1;
  });
  return missing;
}

/**
 * The compiler options of a user's strict TypeScript project on Node
 * (the README's prerequisites: esnext.disposable for `using`), with this
 * checkout's @types/node.
 */
export function userProjectOptions(root: string): ts.CompilerOptions {
  return {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
  };
}
