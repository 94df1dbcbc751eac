import { offCpu, parseTraceEvents } from '../../lib/tracing';

// As the kernel prints them (the gcma_alloc_finish line is from the VM)
const TRACE = `# tracer: nop
#
            node-42      [001] ...1.    11.918801: gcma_alloc_finish: name=gcma_test pfn=0x6000 count=1024 recalled=0 ns=30352003 errorno=0
            node-42      [001] d..2.    11.990000: sched_switch: prev_comm=node prev_pid=42 prev_prio=120 prev_state=S ==> next_comm=cat next_pid=50 next_prio=120
             cat-50      [001] d..2.    11.995000: sched_switch: prev_comm=cat prev_pid=50 prev_prio=120 prev_state=R ==> next_comm=node next_pid=42 next_prio=120
            node-42      [001] ...1.    11.999000: gcma_alloc_start: name=gcma_test pfn=0x6000 count=1024
            node-42      [001] d..2.    12.000100: sched_switch: prev_comm=node prev_pid=42 prev_prio=120 prev_state=R+ ==> next_comm=cat next_pid=50 next_prio=120
             cat-50      [001] d..2.    12.004350: sched_switch: prev_comm=cat prev_pid=50 prev_prio=120 prev_state=R ==> next_comm=node next_pid=42 next_prio=120
             cat-50      [000] ...1.    12.004400: cma_alloc_start: name=reserved count=16 align=0
            node-42      [000] d..2.    12.010000: sched_switch: prev_comm=node prev_pid=42 prev_prio=120 prev_state=D ==> next_comm=swapper/0 next_pid=0 next_prio=120
          <idle>-0       [000] d..2.    12.011000: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=node next_pid=42 next_prio=120
            node-42      [000] d..2.    12.020000: sched_switch: prev_comm=node prev_pid=42 prev_prio=120 prev_state=R+ ==> next_comm=cat next_pid=50 next_prio=120
             cat-50      [000] d..2.    12.022000: sched_switch: prev_comm=cat prev_pid=50 prev_prio=120 prev_state=R ==> next_comm=kworker/0:1 next_pid=7 next_prio=120
            node-42      [000] ...1.    12.025000: gcma_alloc_finish: name=gcma_test pfn=0x6000 count=1024 recalled=0 ns=26000000 errorno=0
            node-42      [000] d..2.    12.030000: sched_switch: prev_comm=node prev_pid=42 prev_prio=120 prev_state=S ==> next_comm=cat next_pid=50 next_prio=120
`;

it('parses the events of one system, with their fields', () => {
  expect(parseTraceEvents(TRACE, 'gcma')).toEqual([
    { event: 'gcma_alloc_finish', name: 'gcma_test', pfn: '0x6000', count: '1024', recalled: '0', ns: '30352003', errorno: '0' },
    { event: 'gcma_alloc_start', name: 'gcma_test', pfn: '0x6000', count: '1024' },
    { event: 'gcma_alloc_finish', name: 'gcma_test', pfn: '0x6000', count: '1024', recalled: '0', ns: '26000000', errorno: '0' },
  ]);
  // gcma_ is not cma_
  expect(parseTraceEvents(TRACE, 'cma')).toEqual([{ event: 'cma_alloc_start', name: 'reserved', count: '16', align: '0' }]);
});

const call = { start: 'gcma_alloc_start', finish: 'gcma_alloc_finish', name: 'gcma_test' };

it('sums the time a task was switched out during a call, between its start and finish events, and the part it was runnable', () => {
  // 4250 us preempted (R+), 1000 us asleep (D), then preempted from
  // 12.020000 to the finish at 12.025000; nothing before the start or
  // after the finish, nor another area's events
  expect(offCpu(TRACE, 42, call)).toEqual({ ns: (4250 + 1000 + 5000) * 1000, preemptedNs: (4250 + 5000) * 1000 });
  // Switched in first (no switch away before): nothing counted until it
  // leaves (runnable, R); out again at 12.022000 until the finish
  const cat = (12_020_000 - 12_004_350 + 3000) * 1000;
  expect(offCpu(TRACE, 50, call)).toEqual({ ns: cat, preemptedNs: cat });
  expect(offCpu(TRACE, 99, call)).toEqual({ ns: 0, preemptedNs: 0 });
  // An event missing (lost, or another area's call): not measured
  expect(offCpu(TRACE, 42, { ...call, finish: 'gcma_free' })).toBeNull();
  expect(offCpu(TRACE, 42, { ...call, name: 'other' })).toBeNull();
});
