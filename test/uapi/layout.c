// SPDX-License-Identifier: GPL-2.0
/*
 * The uapi structs have one layout for 32- and 64-bit user space: compiled
 * with -m32 and with -m64 by test/host/uapi-layout.test.ts, and every
 * offset and size asserted here, so a field that moves fails both.
 */
#include <stddef.h>
#include <linux/gcma_test.h>

#define AT(type, field, off) _Static_assert(offsetof(struct type, field) == (off), \
					    #type "." #field " at " #off)
#define SIZE(type, size) _Static_assert(sizeof(struct type) == (size), #type " size") ; \
	_Static_assert(_Alignof(struct type) == 8 || sizeof(void *) == 4, #type " alignment")

AT(gcma_test_version, abi_version, 0);
AT(gcma_test_version, features, 4);
AT(gcma_test_version, page_size, 8);
AT(gcma_test_version, max_areas, 16);
AT(gcma_test_version, reserved, 24);
SIZE(gcma_test_version, 48);

AT(gcma_test_register, name, 0);
AT(gcma_test_register, count, 32);
AT(gcma_test_register, base_pfn, 40);
AT(gcma_test_register, index, 48);
AT(gcma_test_register, flags, 52);
AT(gcma_test_register, reserved, 56);
SIZE(gcma_test_register, 72);

AT(gcma_test_area_info, target, 0);
AT(gcma_test_area_info, index, 4);
AT(gcma_test_area_info, name, 8);
AT(gcma_test_area_info, base_pfn, 40);
AT(gcma_test_area_info, count, 48);
AT(gcma_test_area_info, allocated, 56);
AT(gcma_test_area_info, cached, 64);
AT(gcma_test_area_info, allocations, 72);
AT(gcma_test_area_info, failures, 80);
AT(gcma_test_area_info, owned, 88);
AT(gcma_test_area_info, flags, 96);
AT(gcma_test_area_info, reserved, 104);
SIZE(gcma_test_area_info, 112);

AT(gcma_test_range, target, 0);
AT(gcma_test_range, index, 4);
AT(gcma_test_range, flags, 8);
AT(gcma_test_range, reserved0, 12);
AT(gcma_test_range, start_pfn, 16);
AT(gcma_test_range, count, 24);
AT(gcma_test_range, kernel_ns, 32);
AT(gcma_test_range, reserved, 40);
SIZE(gcma_test_range, 56);

/* The command numbers encode the sizes: equal on both. */
_Static_assert(GCMA_TEST_IOC_ALLOC == 0xc038b903, "GCMA_TEST_IOC_ALLOC");
_Static_assert(GCMA_TEST_IOC_FREE == 0xc038b904, "GCMA_TEST_IOC_FREE");
