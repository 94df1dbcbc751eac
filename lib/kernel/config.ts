/**
 * Kconfig fragments: parsing, and checking that a resolved .config really
 * holds every value a fragment asked for (olddefconfig silently drops
 * options whose dependencies are missing).
 */

/** Option name -> value as written in .config ('y', 'm', '"str"', '123'); 'n' for "is not set". */
export type KconfigValues = Map<string, string>;

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

export function parseKconfig(text: string): KconfigValues {
  const values: KconfigValues = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m = SET.exec(line);
    if (m) {
      values.set(m[1]!, m[2]!);
      continue;
    }
    m = UNSET.exec(line);
    if (m) values.set(m[1]!, 'n');
  }
  return values;
}

export interface ConfigMismatch {
  option: string;
  wanted: string;
  got: string;
  fragment: string;
}

/**
 * Compare the fragments' wishes with the resolved config. An option missing
 * from .config counts as 'n'. Later fragments override earlier ones, as in
 * merge_config.sh.
 */
export function checkKconfig(
  fragments: ReadonlyArray<{ name: string; text: string }>,
  resolved: KconfigValues,
): ConfigMismatch[] {
  const wanted = new Map<string, { value: string; fragment: string }>();
  for (const f of fragments) {
    for (const [option, value] of parseKconfig(f.text)) wanted.set(option, { value, fragment: f.name });
  }
  const mismatches: ConfigMismatch[] = [];
  for (const [option, { value, fragment }] of wanted) {
    const got = resolved.get(option) ?? 'n';
    if (got !== value) mismatches.push({ option, wanted: value, got, fragment });
  }
  return mismatches;
}

export function formatMismatches(mismatches: readonly ConfigMismatch[]): string {
  return mismatches
    .map((m) => `  ${m.option}: ${m.fragment} wants ${m.wanted}, .config has ${m.got}`)
    .join('\n');
}
