/**
 * Scanning the guest's kernel console for reports that must fail a run:
 * panics, oopses, WARNs, BUGs and the sanitizers' reports.
 */

export type FindingKind = 'panic' | 'oops' | 'warning' | 'bug' | 'sanitizer';

export interface ConsoleFinding {
  kind: FindingKind;
  /** 1-based line number in the console log. */
  line: number;
  /** The report: its first line and what follows it. */
  excerpt: string;
}

const PATTERNS: ReadonlyArray<[FindingKind, RegExp]> = [
  ['panic', /Kernel panic - not syncing/],
  ['oops', /\bOops: /],
  ['oops', /general protection fault/],
  ['warning', /\bWARNING: CPU: \d+ PID: \d+ at /],
  ['warning', /\bWARNING: (possible|suspicious|inconsistent|bad unlock)/],
  ['bug', /\bkernel BUG at /],
  ['bug', /\bBUG: (?!KASAN|KFENCE)/],
  ['sanitizer', /\bBUG: (KASAN|KFENCE): /],
  ['sanitizer', /\bUBSAN: /],
  ['sanitizer', /\bpagealloc: (memory corruption|single bit error)/],
];

const EXCERPT_LINES = 40;
/** How far above a report to look for its "cut here" line. */
const CUT_LOOKBACK = 8;

/** Strip the "[    1.234567] " printk timestamp so patterns see the message. */
function message(line: string): string {
  return line.replace(/^\[\s*\d+\.\d+\]\s?/, '');
}

export interface ConsoleScan {
  /** Reports that fail a run. */
  findings: ConsoleFinding[];
  /** Reports whose first line matched one of the expected patterns. */
  expected: ConsoleFinding[];
}

/**
 * The reports on a console. A report a run provokes on purpose is set apart
 * when a pattern in `expected` matches the line that starts it.
 */
export function scanConsole(text: string, expected: readonly RegExp[] = []): ConsoleScan {
  const lines = text.split(/\r?\n/);
  const scan: ConsoleScan = { findings: [], expected: [] };
  for (const f of findReports(lines)) {
    (expected.some((re) => re.test(lines[f.line - 1]!)) ? scan.expected : scan.findings).push(f);
  }
  return scan;
}

function findReports(lines: readonly string[]): ConsoleFinding[] {
  const findings: ConsoleFinding[] = [];
  let coveredUntil = -1;
  lines.forEach((raw, i) => {
    const msg = message(raw);
    for (const [kind, re] of PATTERNS) {
      if (!re.test(msg)) continue;
      // A panic caused by panic_on_warn follows its WARN: report both, but
      // do not restart an excerpt in the middle of one already taken.
      if (i > coveredUntil || kind === 'panic') {
        // WARN(cond, fmt) prints its message between "cut here" and the
        // WARNING line: start the excerpt at the cut so the message shows.
        let from = i;
        for (let j = i - 1; j >= Math.max(0, i - CUT_LOOKBACK, coveredUntil + 1); j--) {
          if (lines[j]!.includes('[ cut here ]')) from = j;
        }
        findings.push({ kind, line: i + 1, excerpt: lines.slice(from, i + EXCERPT_LINES).join('\n') });
        coveredUntil = i + EXCERPT_LINES - 1;
      }
      break;
    }
  });
  return findings;
}

export function tail(text: string, n = 40): string {
  const lines = text.replace(/\s+$/, '').split(/\r?\n/);
  return lines.slice(-n).join('\n');
}
