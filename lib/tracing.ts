/**
 * Trace events from tracefs: the gcma: and cma: tracepoints, which time
 * allocations on any kernel built with trace events, with no test module.
 * A trace instance of one's own keeps its reads and clears away from
 * other users of the main buffer.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TRACEFS = '/sys/kernel/tracing';

/** One event: its name (`gcma_alloc_finish`) and its key=value fields as printed. */
export interface TraceEvent {
  event: string;
  [field: string]: string;
}

/** The events of one trace system (`gcma`, `cma`) in a trace buffer's text, oldest first. */
export function parseTraceEvents(text: string, system: string): TraceEvent[] {
  const re = new RegExp(`\\s(${system}_\\w+): (.*)$`);
  const events: TraceEvent[] = [];
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const e: TraceEvent = { event: m[1]! };
    for (const kv of m[2]!.split(' ')) {
      const eq = kv.indexOf('=');
      if (eq > 0) e[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    events.push(e);
  }
  return events;
}

/** A trace instance with some events enabled; close() removes it. */
export class TraceInstance implements Disposable {
  private constructor(
    readonly dir: string,
    private readonly events: readonly string[],
  ) {}

  /**
   * Make instance `name` with `events` (`gcma/gcma_alloc_finish`) enabled,
   * each with its filter (`prev_pid == 42`) or none; null when the kernel
   * has no tracefs or not all of those events.
   */
  static open(name: string, events: Readonly<Record<string, string | null>>): TraceInstance | null {
    const names = Object.keys(events);
    if (!names.every((e) => existsSync(join(TRACEFS, 'events', e)))) return null;
    const dir = join(TRACEFS, 'instances', name);
    if (!existsSync(dir)) mkdirSync(dir);
    // One clock for all CPUs: a task switched out on one CPU may come back on another
    writeFileSync(join(dir, 'trace_clock'), 'global');
    const t = new TraceInstance(dir, names);
    for (const [e, filter] of Object.entries(events)) {
      if (filter) writeFileSync(join(dir, 'events', e, 'filter'), filter);
      writeFileSync(join(dir, 'events', e, 'enable'), '1');
    }
    t.clear();
    return t;
  }

  /** The buffer's text since the last read or clear; clears the buffer. */
  take(): string {
    const text = readFileSync(join(this.dir, 'trace'), 'utf8');
    this.clear();
    return text;
  }

  clear(): void {
    writeFileSync(join(this.dir, 'trace'), '');
  }

  close(): void {
    if (!existsSync(this.dir)) return;
    for (const e of this.events) writeFileSync(join(this.dir, 'events', e, 'enable'), '0');
    rmdirSync(this.dir);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Time a task spent off the CPU during a call, ns. */
export interface OffCpu {
  ns: number;
  /** The part of it switched out while runnable (prev_state R: preempted, or it yielded at cond_resched()), not asleep. */
  preemptedNs: number;
}

/**
 * The time task `pid` spent off the CPU during a call, in a trace's
 * sched:sched_switch events: from each switch away from it to the switch
 * back, between the call's own events (`start` and `finish`, such as
 * `gcma_alloc_start` and `gcma_alloc_finish`, of the area `name`), and how
 * much of it the task was runnable (switched out in state R or R+) rather
 * than asleep. Null when either event is missing.
 */
export function offCpu(text: string, pid: number, call: { start: string; finish: string; name: string }): OffCpu | null {
  const re = /\s(\d+)\.(\d{6}): (?:sched_switch: .*prev_pid=(\d+) .*prev_state=(\S+) .*next_pid=(\d+) |(\w+): name=(\S+))/;
  let out: number | null = null;
  let runnable = false;
  let inside = false;
  const total = { ns: 0, preemptedNs: 0 };
  const back = (us: number): void => {
    total.ns += (us - out!) * 1000;
    if (runnable) total.preemptedNs += (us - out!) * 1000;
    out = null;
  };
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const us = Number(m[1]) * 1e6 + Number(m[2]);
    if (m[6] !== undefined) {
      if (m[7] !== call.name) continue;
      if (m[6] === call.start) inside = true;
      else if (m[6] === call.finish && inside) {
        if (out !== null) back(us);
        return total;
      }
      continue;
    }
    if (!inside) continue;
    if (Number(m[3]) === pid && out === null) {
      out = us;
      runnable = m[4]!.startsWith('R');
    } else if (Number(m[5]) === pid && out !== null) back(us);
  }
  return null;
}
