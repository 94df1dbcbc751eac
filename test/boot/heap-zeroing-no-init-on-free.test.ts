/**
 * dma-buf heaps with init_on_free=0 (test/support/heap-boot.ts): nothing
 * but the heaps themselves zeroes their buffers; and the vendor heap's
 * TypeScript checks.
 */
import { HEAP_BOOTS, runHeapBoot } from '../support/heap-boot';

jest.setTimeout(600_000);

it(`hands out zeroed buffers and no cached file data ${HEAP_BOOTS.noInitOnFree.title}, and the vendor heap passes its checks`, () => runHeapBoot(HEAP_BOOTS.noInitOnFree));
