import { scanConsole, tail } from '../../lib/vm/console';

const clean = `[    0.000000] Linux version 6.12.117-gcma (root@host) #1 SMP
[    0.512000] Run /work/scripts/guest-init.sh as init process
[    1.000000] gcma_test: loaded (CONFIG_GCMA=y)
[    2.000000] reboot: Power down`;

const warn = `[    0.000000] Linux version 6.12.117-gcma
[    3.101000] ------------[ cut here ]------------
[    3.101500] gcma fixture: deliberate WARN on load
[    3.102000] WARNING: CPU: 1 PID: 74 at warn_on_load.c:12 warn_on_load_init+0x15/0x20 [warn_on_load]
[    3.103000] Modules linked in: warn_on_load(O+)
[    3.104000] Call Trace:
[    3.110000] Kernel panic - not syncing: kernel: panic_on_warn set ...`;

describe('scanConsole', () => {
  it('finds nothing in a clean boot', () => {
    expect(scanConsole(clean)).toEqual({ findings: [], expected: [] });
  });

  it('reports a WARN with its excerpt, and the panic it caused', () => {
    const f = scanConsole(warn).findings;
    expect(f.map((x) => x.kind)).toEqual(['warning', 'panic']);
    expect(f[0]!.line).toBe(4);
    expect(f[0]!.excerpt).toContain('warn_on_load.c:12');
    expect(f[0]!.excerpt).toContain('Call Trace:');
    // The WARN's own message comes before its WARNING line.
    expect(f[0]!.excerpt.split('\n')[0]).toContain('[ cut here ]');
    expect(f[0]!.excerpt).toContain('deliberate WARN on load');
  });

  it.each([
    ['[    5.0] BUG: unable to handle page fault for address: ffff888000000000', 'bug'],
    ['[    5.0] kernel BUG at mm/gcma.c:120!', 'bug'],
    ['[    5.0] Oops: general protection fault, probably for non-canonical address', 'oops'],
    ['[    5.0] BUG: KASAN: use-after-free in gcma_free_range+0x10/0x20', 'sanitizer'],
    ['[    5.0] BUG: KFENCE: out-of-bounds read in test', 'sanitizer'],
    ['[    5.0] UBSAN: shift-out-of-bounds in mm/gcma.c:10:5', 'sanitizer'],
    ['[    5.0] pagealloc: memory corruption', 'sanitizer'],
    ['[    5.0] WARNING: possible circular locking dependency detected', 'warning'],
    ['[    5.0] BUG: sleeping function called from invalid context at mm/slab.h:1', 'bug'],
    ['Kernel panic - not syncing: sysrq triggered crash', 'panic'],
  ])('classifies %s', (line, kind) => {
    expect(scanConsole(`${clean}\n${line}`).findings.map((x) => x.kind)).toEqual([kind]);
  });

  it('sets apart the reports a run expects, by the line that starts them, and only those', () => {
    const badPage = `${clean}
[    7.0] BUG: Bad page state in process kunit_try_catch  pfn:04448
[    7.1] page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x4448
[    7.2] Call Trace:`;
    const expected = [/BUG: Bad page state in process kunit_try_catch /];
    const s = scanConsole(badPage, expected);
    expect(s.findings).toEqual([]);
    expect(s.expected.map((x) => [x.kind, x.line])).toEqual([['bug', 5]]);
    // Without the pattern it fails a run; another report still does with it
    expect(scanConsole(badPage).findings.map((x) => x.kind)).toEqual(['bug']);
    const other = scanConsole(`${badPage}\n${'[    9.0] filler\n'.repeat(40)}[   10.0] BUG: Bad page state in process cat  pfn:01000`, expected);
    expect(other.findings.map((x) => x.line)).toEqual([48]);
    expect(other.expected).toHaveLength(1);
  });

  it('does not mistake ordinary messages for reports', () => {
    const benign = [
      '[    0.1] ACPI: _OSC evaluation for CPUs failed, trying _PDC',
      '[    0.2] x86/cpu: WARNING-free boot',
      '[    0.3] random: crng init done',
      '[    0.4] DEBUG_BUG_VERBOSE is enabled',
    ].join('\n');
    expect(scanConsole(benign).findings).toEqual([]);
  });
});

describe('tail', () => {
  it('keeps the last lines without trailing blanks', () => {
    expect(tail('a\nb\nc\n\n', 2)).toBe('b\nc');
  });
});
