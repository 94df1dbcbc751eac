/**
 * dma-buf heaps with init_on_free=1 (test/support/heap-boot.ts): the page
 * allocator then zeroes nothing on allocation, counting on the free path,
 * but cleancache wrote file data into GCMA's pages since.
 */
import { HEAP_BOOTS, runHeapBoot } from '../support/heap-boot';

jest.setTimeout(600_000);

it(`hands out zeroed buffers and no cached file data ${HEAP_BOOTS.initOnFree.title}`, () => runHeapBoot(HEAP_BOOTS.initOnFree));
