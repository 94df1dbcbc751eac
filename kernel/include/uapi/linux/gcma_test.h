/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gcma_test: user-space interface of the GCMA test module.
 *
 * The module (kernel/module/gcma_test.c) is a misc device, /dev/gcma_test,
 * root only (0600); every command also needs CAP_SYS_ADMIN. Through it user
 * space registers GCMA areas and allocates and frees ranges of page frames
 * from them, or from the kernel's CMA areas (the default one, cma= on the
 * command line, and any other declared at boot) through cma_alloc() or
 * dma_alloc_coherent(), with the time the kernel spent in the allocator.
 * A CMA area may be backed by GCMA ("guaranteed", cma=SIZE,guaranteed or
 * gcma=NAME:SIZE): it then also appears as the GCMA area of the same name
 * and base, which only the CMA target allocates from.
 *
 * Ownership: each open file owns the ranges it allocated. Only that file
 * can free them, in whole or in part (a compound range only whole), and
 * closing it frees whatever it still owns. Areas, once registered, are
 * permanent: GCMA has no unregistration, so an area outlives the file and
 * the module that registered it.
 *
 * Every struct is made of naturally aligned __u32/__u64 fields with no
 * implicit padding, so it has one layout for 32- and 64-bit user space.
 * Fields marked (in) are read, (out) written; reserved fields and unused
 * flag bits must be zero. Each command returns 0 or -1 with errno set:
 *
 *   ENOTTY        unknown command
 *   EPERM         the caller lacks CAP_SYS_ADMIN
 *   EFAULT        the argument cannot be read or written; an allocation
 *                 whose result cannot be written back is freed again
 *   EINVAL        a reserved field or unknown flag set; count 0; a range
 *                 that wraps or lies above GCMA_TEST_PFN_MAX; an unknown
 *                 target; a compound range that is not a naturally aligned
 *                 power of two of at most 2^10 pages (x86; the kernel's
 *                 MAX_PAGE_ORDER); a free that covers part of a compound
 *                 or DMA range or more than one allocation; an empty name, one
 *                 with '/', "." or "..", or the name of a file in
 *                 /sys/kernel/mm/cleancache ("stored", "cached", ...)
 *   ENAMETOOLONG  a name without a NUL in its GCMA_TEST_NAME_LEN bytes
 *   EEXIST        register: the name is taken
 *   ENOSPC        register: GCMA_TEST_MAX_AREAS areas exist already, or
 *                 the areas would hold more than the module parameter
 *                 max_area_pages (half of RAM unless set at load)
 *   ENOMEM        register: no free contiguous range of that size (in
 *                 the CMA area, with GCMA_TEST_REGISTER_FROM_CMA);
 *                 alloc anywhere: no free range of that size in the area;
 *                 CMA alloc: cma_alloc() failed, dma_alloc_coherent()
 *                 failed or served it from outside the area, or a DMA
 *                 range larger than the area
 *   ENOENT        no area with that index; free: nothing allocated there
 *   ERANGE        explicit alloc: the range is not inside the area
 *   EBUSY         explicit alloc: a page of the range is allocated already;
 *                 free: another thread of the file is allocating or
 *                 freeing that allocation
 *   EACCES        free: the range belongs to another open file
 *   EIO           free: GCMA found pages of the range in a bad state or
 *                 hardware-poisoned and keeps them out of use for good
 *                 (counted in sysfs "lost"); the range is freed
 *   EOPNOTSUPP    explicit or compound allocation from a CMA area;
 *                 GCMA_TEST_ALLOC_DMA from a GCMA area, or on a kernel
 *                 without CONFIG_DMA_CMA; allocation from a
 *                 GCMA area that backs a CMA area (its CMA bitmap owns
 *                 it); register with GCMA_TEST_REGISTER_FROM_CMA when the
 *                 default CMA area is guaranteed (its pages are GCMA's)
 *   ENODEV        the kernel has no GCMA; register with
 *                 GCMA_TEST_REGISTER_FROM_CMA: no default CMA area
 */
#ifndef _UAPI_LINUX_GCMA_TEST_H
#define _UAPI_LINUX_GCMA_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on any incompatible change of the structs or commands below. */
#define GCMA_TEST_ABI_VERSION	1

#define GCMA_TEST_DEVICE	"/dev/gcma_test"
#define GCMA_TEST_NAME_LEN	32	/* including the terminating NUL */
#define GCMA_TEST_MAX_AREAS	64	/* GCMA's limit, for the whole system */
/* PFNs past 2^52 cannot be named exactly by a JavaScript number. */
#define GCMA_TEST_PFN_MAX	((1ULL << 52) - 1)

/* Where a range comes from */
enum gcma_test_target {
	GCMA_TEST_TARGET_GCMA = 0,	/* a GCMA area, by index */
	GCMA_TEST_TARGET_CMA = 1,	/* a CMA area, by index */
};

/* gcma_test_range.flags, for GCMA_TEST_IOC_ALLOC */
#define GCMA_TEST_ALLOC_ANYWHERE	0x1	/* first fit; else start_pfn */
#define GCMA_TEST_ALLOC_COMPOUND	0x2	/* one compound page */
/*
 * CMA target, with GCMA_TEST_ALLOC_ANYWHERE: dma_alloc_coherent() on a
 * device of the module whose CMA area (dev->cma_area) is the area, as a
 * driver's would be; freed whole only. dma-direct aligns the range to its
 * size rounded up to a power of two (at most 2^CONFIG_CMA_ALIGNMENT
 * pages) and zeroes it, so kernel_ns is not cma_alloc()'s alone. Where
 * the area cannot serve it, dma-direct takes pages from the page allocator
 * instead: the module gives them back and fails with ENOMEM.
 */
#define GCMA_TEST_ALLOC_DMA		0x4
#define GCMA_TEST_ALLOC_FLAGS		(GCMA_TEST_ALLOC_ANYWHERE | \
					 GCMA_TEST_ALLOC_COMPOUND | \
					 GCMA_TEST_ALLOC_DMA)

/* gcma_test_version.features */
#define GCMA_TEST_FEATURE_GCMA		0x1	/* kernel has GCMA */
#define GCMA_TEST_FEATURE_CMA		0x2	/* a default CMA area exists */
/* The CMA target reaches every CMA area; AREA_INFO flags; ALLOC_DMA */
#define GCMA_TEST_FEATURE_CMA_AREAS	0x4

/* GCMA_TEST_IOC_VERSION */
struct gcma_test_version {
	__u32 abi_version;	/* (out) GCMA_TEST_ABI_VERSION */
	__u32 features;		/* (out) GCMA_TEST_FEATURE_* */
	__u64 page_size;	/* (out) bytes */
	__u64 max_areas;	/* (out) GCMA_TEST_MAX_AREAS */
	__u64 reserved[3];
};

/* gcma_test_register.flags */
#define GCMA_TEST_REGISTER_FROM_CMA	0x1	/* carve it out of the CMA area */
#define GCMA_TEST_REGISTER_FLAGS	GCMA_TEST_REGISTER_FROM_CMA

/*
 * GCMA_TEST_IOC_REGISTER: take @count free, physically contiguous pages
 * from the page allocator, or with GCMA_TEST_REGISTER_FROM_CMA from the
 * default CMA area (as a device's reserved memory would be split between
 * the two), and register them as GCMA area @name, for good.
 */
struct gcma_test_register {
	char name[GCMA_TEST_NAME_LEN];	/* (in) NUL-terminated, no '/' */
	__u64 count;			/* (in) pages */
	__u64 base_pfn;			/* (out) first page frame */
	__u32 index;			/* (out) the area's index */
	__u32 flags;			/* (in) GCMA_TEST_REGISTER_* */
	__u64 reserved[2];
};

/* gcma_test_area_info.flags */
#define GCMA_TEST_AREA_DEFAULT		0x1	/* CMA: the default area */
/* CMA: backed by GCMA; GCMA: the backing of the CMA area of its name */
#define GCMA_TEST_AREA_GUARANTEED	0x2

/*
 * GCMA_TEST_IOC_AREA_INFO: an area and its statistics. GCMA areas are
 * numbered from 0 in registration order, whoever registered them (the
 * areas backing guaranteed CMA areas first, at boot); CMA areas from 0:
 * the default area (if any) first, then the others in the order they were
 * declared (cma_for_each_area()). A name longer than GCMA_TEST_NAME_LEN - 1
 * bytes (CMA allows 63) is cut short.
 */
struct gcma_test_area_info {
	__u32 target;			/* (in) enum gcma_test_target */
	__u32 index;			/* (in) */
	char name[GCMA_TEST_NAME_LEN];	/* (out) */
	__u64 base_pfn;			/* (out) */
	__u64 count;			/* (out) pages */
	__u64 allocated;	/* (out) pages allocated (CMA: by this module) */
	/* (out) pages holding cleancache copies (CMA: in its GCMA backing) */
	__u64 cached;
	/* (out) successful allocations (CMA: by this module) */
	__u64 allocations;
	/* (out) allocations that found pages busy (CMA: that failed) */
	__u64 failures;
	__u64 owned;		/* (out) pages this open file owns */
	__u64 flags;		/* (out) GCMA_TEST_AREA_* */
	__u64 reserved;
};

/*
 * GCMA_TEST_IOC_ALLOC and GCMA_TEST_IOC_FREE. kernel_ns is the time spent
 * in gcma_alloc_range()/gcma_free_range() or cma_alloc()/cma_release(),
 * measured in the kernel.
 */
struct gcma_test_range {
	__u32 target;		/* (in) enum gcma_test_target */
	__u32 index;		/* (in) alloc: the area; (out) free: the area */
	__u32 flags;		/* (in) alloc: GCMA_TEST_ALLOC_*; free: 0 */
	__u32 reserved0;
	__u64 start_pfn;	/* (in) explicit alloc, free; (out) anywhere */
	__u64 count;		/* (in) pages */
	__u64 kernel_ns;	/* (out) */
	__u64 reserved[2];
};

#define GCMA_TEST_IOC_MAGIC	0xB9	/* free in ioctl-number.rst (6.12) */

#define GCMA_TEST_IOC_VERSION	_IOWR(GCMA_TEST_IOC_MAGIC, 0x00, struct gcma_test_version)
#define GCMA_TEST_IOC_REGISTER	_IOWR(GCMA_TEST_IOC_MAGIC, 0x01, struct gcma_test_register)
#define GCMA_TEST_IOC_AREA_INFO	_IOWR(GCMA_TEST_IOC_MAGIC, 0x02, struct gcma_test_area_info)
#define GCMA_TEST_IOC_ALLOC	_IOWR(GCMA_TEST_IOC_MAGIC, 0x03, struct gcma_test_range)
#define GCMA_TEST_IOC_FREE	_IOWR(GCMA_TEST_IOC_MAGIC, 0x04, struct gcma_test_range)

#endif /* _UAPI_LINUX_GCMA_TEST_H */
