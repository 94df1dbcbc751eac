// SPDX-License-Identifier: GPL-2.0
/*
 * gcma_test_uapi: the uapi of /dev/gcma_test, command by command and error
 * by error, straight through ioctl(2). Runs as root in the test VM with
 * gcma_test.ko loaded, a plain default CMA area (cma=64M) and a guaranteed
 * one (gcma=NAME:SIZE); prints TAP.
 *
 *   gcma_test_uapi [--list]            every command and error row
 *   gcma_test_uapi [--list] area-limit registers areas until the limit; run it
 *                                      in a boot of its own (areas are permanent)
 *
 * In C, so that it can do what a binding would not: set reserved fields,
 * pass names without a NUL and pointers the kernel cannot read or write,
 * and hand an open file to a process without CAP_SYS_ADMIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/gcma_test.h>

#include "tap.h"

#define AREA_PAGES	256
#define NOBODY		65534

static char area_name[GCMA_TEST_NAME_LEN];
static unsigned int area;	/* index of this run's area */
static uint64_t base;		/* its first PFN */

static int open_dev(void)
{
	return open_or_bail_out(GCMA_TEST_DEVICE, O_RDWR | O_CLOEXEC);
}

static struct gcma_test_area_info info_of(int fd, uint32_t target, uint32_t index)
{
	struct gcma_test_area_info ai = { .target = target, .index = index };

	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai));
	return ai;
}

static uint64_t allocated(int fd, uint32_t target, uint32_t index)
{
	return info_of(fd, target, index).allocated;
}

static struct gcma_test_range range(uint32_t target, uint32_t index, uint32_t flags,
				    uint64_t start_pfn, uint64_t count)
{
	struct gcma_test_range r = {
		.target = target, .index = index, .flags = flags,
		.start_pfn = start_pfn, .count = count,
	};
	return r;
}

static int alloc_at(int fd, uint64_t start_pfn, uint64_t count, uint32_t flags)
{
	struct gcma_test_range r = range(GCMA_TEST_TARGET_GCMA, area, flags, start_pfn, count);

	return ioctl(fd, GCMA_TEST_IOC_ALLOC, &r);
}

/* Allocate anywhere in this run's area; the first PFN, or UINT64_MAX. */
static uint64_t alloc_any(int fd, uint64_t count, uint32_t flags)
{
	struct gcma_test_range r = range(GCMA_TEST_TARGET_GCMA, area,
					 flags | GCMA_TEST_ALLOC_ANYWHERE, 0, count);

	return ioctl(fd, GCMA_TEST_IOC_ALLOC, &r) ? UINT64_MAX : r.start_pfn;
}

/* CMA areas, in the kernel's order */
static unsigned int nr_cma_areas(int fd)
{
	struct gcma_test_area_info ai = { .target = GCMA_TEST_TARGET_CMA };

	while (!ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai))
		ai.index++;
	CHECK(errno == ENOENT, "CMA area %u: %s", ai.index, strerror(errno));
	return ai.index;
}

/* The index of the first CMA area with all of @flags; -1 if none. */
static int cma_area_with(int fd, uint64_t flags)
{
	unsigned int i, n = nr_cma_areas(fd);

	for (i = 0; i < n; i++)
		if ((info_of(fd, GCMA_TEST_TARGET_CMA, i).flags & flags) == flags)
			return i;
	return -1;
}

static unsigned int default_cma(int fd)
{
	int i = cma_area_with(fd, GCMA_TEST_AREA_DEFAULT);

	CHECK(i >= 0, "no CMA area is flagged default");
	return i < 0 ? 0 : i;
}

/* The GCMA area starting at @base_pfn: its info, index -1U if none. */
static struct gcma_test_area_info gcma_area_at(int fd, uint64_t base_pfn)
{
	struct gcma_test_area_info ai = { .target = GCMA_TEST_TARGET_GCMA };

	while (!ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai) && ai.base_pfn != base_pfn)
		ai.index++;
	if (ai.base_pfn != base_pfn)
		ai.index = -1U;
	return ai;
}

static int free_at(int fd, uint32_t target, uint64_t start_pfn, uint64_t count)
{
	struct gcma_test_range r = range(target, 0, 0, start_pfn, count);

	return ioctl(fd, GCMA_TEST_IOC_FREE, &r);
}

static int register_area_flags(int fd, const char *name, uint64_t count, uint32_t flags)
{
	struct gcma_test_register r = { .count = count, .flags = flags };

	strncpy(r.name, name, sizeof(r.name));
	return ioctl(fd, GCMA_TEST_IOC_REGISTER, &r);
}

static int register_area(int fd, const char *name, uint64_t count,
			 struct gcma_test_register *out)
{
	struct gcma_test_register r = { .count = count };

	strncpy(r.name, name, sizeof(r.name));
	if (ioctl(fd, GCMA_TEST_IOC_REGISTER, &r))
		return -1;
	if (out)
		*out = r;
	return 0;
}

static void test_version(void)
{
	int fd = open_dev();
	struct gcma_test_version v = { 0 };

	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_VERSION, &v));
	CHECK_EQ(v.abi_version, GCMA_TEST_ABI_VERSION);
	CHECK_EQ(v.features, GCMA_TEST_FEATURE_GCMA | GCMA_TEST_FEATURE_CMA |
		 GCMA_TEST_FEATURE_CMA_AREAS);
	CHECK_EQ(v.page_size, (uint64_t)sysconf(_SC_PAGESIZE));
	CHECK_EQ(v.max_areas, GCMA_TEST_MAX_AREAS);
	v.reserved[2] = 1;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_VERSION, &v), EINVAL);
	close(fd);
}

static void test_unknown_commands(void)
{
	int fd = open_dev();
	struct gcma_test_range r = { 0 };

	CHECK_ERR(ioctl(fd, _IOWR(GCMA_TEST_IOC_MAGIC, 0x0f, struct gcma_test_range), &r), ENOTTY);
	/* A known number with the wrong size is another command. */
	CHECK_ERR(ioctl(fd, _IOWR(GCMA_TEST_IOC_MAGIC, 0x03, struct gcma_test_version), &r), ENOTTY);
	CHECK_ERR(ioctl(fd, _IOR(GCMA_TEST_IOC_MAGIC, 0x00, struct gcma_test_version), &r), ENOTTY);
	CHECK_ERR(ioctl(fd, _IOWR('J', 0x00, struct gcma_test_version), &r), ENOTTY);
	close(fd);
}

static void test_bad_pointers(void)
{
	const unsigned long cmds[] = {
		GCMA_TEST_IOC_VERSION, GCMA_TEST_IOC_REGISTER, GCMA_TEST_IOC_AREA_INFO,
		GCMA_TEST_IOC_ALLOC, GCMA_TEST_IOC_FREE,
	};
	int fd = open_dev();
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		CHECK_ERR(ioctl(fd, cmds[i], NULL), EFAULT);
		CHECK_ERR(ioctl(fd, cmds[i], (void *)-4096L), EFAULT);
	}
	close(fd);
}

static void test_register(void)
{
	int fd = open_dev();
	struct gcma_test_register r = { 0 };
	struct gcma_test_area_info ai;
	char path[128], buf[64] = "";
	FILE *f;

	snprintf(area_name, sizeof(area_name), "uapi-%d", (int)getpid());
	CHECK_OK(register_area(fd, area_name, AREA_PAGES, &r));
	area = r.index;
	base = r.base_pfn;
	CHECK(base != 0, "base PFN 0");
	CHECK_EQ(r.flags, 0);

	ai = info_of(fd, GCMA_TEST_TARGET_GCMA, area);
	CHECK(!strcmp(ai.name, area_name), "area %u is %s", area, ai.name);
	CHECK_EQ(ai.base_pfn, base);
	CHECK_EQ(ai.count, AREA_PAGES);
	CHECK_EQ(ai.allocated, 0);
	CHECK_EQ(ai.owned, 0);
	CHECK(ai.cached <= AREA_PAGES, "cached %llu", (unsigned long long)ai.cached);

	/* GCMA's own statistics agree */
	snprintf(path, sizeof(path), "/sys/kernel/mm/gcma/%s/size", area_name);
	f = fopen(path, "r");
	CHECK(f, "%s: %s", path, strerror(errno));
	if (f) {
		CHECK(fgets(buf, sizeof(buf), f), "read %s", path);
		fclose(f);
	}
	CHECK_EQ(strtoull(buf, NULL, 0), AREA_PAGES);
	close(fd);
}

static void test_register_errors(void)
{
	int fd = open_dev();
	struct gcma_test_register r = { .name = "uapi-x", .count = 1 };
	unsigned int areas = 0;
	struct gcma_test_area_info ai = { 0 };

	while (!ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai))
		ai.index = ++areas;

	CHECK_ERR(register_area(fd, area_name, 1, NULL), EEXIST);
	CHECK_ERR(register_area(fd, "", 1, NULL), EINVAL);
	CHECK_ERR(register_area(fd, "a/b", 1, NULL), EINVAL);
	/* Names sysfs has in /sys/kernel/mm/gcma or cleancache already */
	CHECK_ERR(register_area(fd, ".", 1, NULL), EINVAL);
	CHECK_ERR(register_area(fd, "..", 1, NULL), EINVAL);
	CHECK_ERR(register_area(fd, "stored", 1, NULL), EINVAL);
	CHECK_ERR(register_area(fd, "cached", 1, NULL), EINVAL);
	CHECK_ERR(register_area(fd, "uapi-x", 0, NULL), EINVAL);
	CHECK_ERR(register_area(fd, "uapi-x", GCMA_TEST_PFN_MAX + 2, NULL), EINVAL);
	/* Far more than max_area_pages (half of the guest's memory) */
	CHECK_ERR(register_area(fd, "uapi-x", 1ULL << 40, NULL), ENOSPC);

	memset(r.name, 'n', sizeof(r.name));
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_REGISTER, &r), ENAMETOOLONG);
	strcpy(r.name, "uapi-x");
	r.flags = 0x2;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_REGISTER, &r), EINVAL);
	r.flags = 0;
	r.reserved[1] = 1;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_REGISTER, &r), EINVAL);

	/* Nothing was registered by the failures */
	ai.index = areas;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai), ENOENT);
	close(fd);
}

/* An area carved out of the CMA area: CMA can no longer hand its pages out. */
static void test_register_from_cma(void)
{
	int fd = open_dev();
	unsigned int dflt = default_cma(fd);
	struct gcma_test_area_info cma = info_of(fd, GCMA_TEST_TARGET_CMA, dflt), ai;
	struct gcma_test_register r = { .count = 256, .flags = GCMA_TEST_REGISTER_FROM_CMA };
	struct gcma_test_range cr;

	snprintf(r.name, sizeof(r.name), "uapi-cma-%d", (int)getpid());
	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_REGISTER, &r));
	CHECK(r.base_pfn >= cma.base_pfn && r.base_pfn + 256 <= cma.base_pfn + cma.count,
	      "area at %#llx outside the CMA area", (unsigned long long)r.base_pfn);
	ai = info_of(fd, GCMA_TEST_TARGET_GCMA, r.index);
	CHECK(!strcmp(ai.name, r.name), "area %u is %s", r.index, ai.name);
	CHECK_EQ(ai.base_pfn, r.base_pfn);
	CHECK_EQ(ai.count, 256);
	cr = range(GCMA_TEST_TARGET_GCMA, r.index, 0, r.base_pfn + 16, 16);
	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_ALLOC, &cr));
	/* GCMA pages inside the CMA area are owned from GCMA, not from CMA */
	CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_GCMA, r.index).owned, 16);
	CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, dflt).owned, 0);
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, r.base_pfn + 16, 16));
	/* Carved out of a plain area, it backs no CMA area */
	CHECK_EQ(ai.flags, 0);

	/* Those pages are GCMA's now: CMA cannot give out the whole area */
	cr = range(GCMA_TEST_TARGET_CMA, dflt, GCMA_TEST_ALLOC_ANYWHERE, 0, cma.count);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &cr), ENOMEM);
	snprintf(r.name, sizeof(r.name), "uapi-cmax-%d", (int)getpid());
	r.count = cma.count;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_REGISTER, &r), ENOMEM);
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_CMA, dflt), cma.allocated);
	close(fd);
}

static void test_area_info(void)
{
	int fd = open_dev();
	struct gcma_test_area_info ai = { .target = GCMA_TEST_TARGET_CMA };
	long page = sysconf(_SC_PAGESIZE);

	ai.index = default_cma(fd);
	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai));
	CHECK(!strcmp(ai.name, "reserved"), "default CMA area is %s", ai.name);
	CHECK_EQ(ai.count, (64ULL << 20) / page);	/* cma=64M */
	CHECK(ai.base_pfn != 0, "CMA base PFN 0");
	CHECK_EQ(ai.cached, 0);
	CHECK_EQ(ai.flags, GCMA_TEST_AREA_DEFAULT);
	/* This run's area was registered at run time: it backs nothing */
	CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_GCMA, area).flags, 0);

	ai.index = nr_cma_areas(fd);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai), ENOENT);
	ai.target = GCMA_TEST_TARGET_GCMA;
	ai.index = GCMA_TEST_MAX_AREAS;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai), ENOENT);
	ai.target = 2;
	ai.index = 0;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai), EINVAL);
	ai.target = GCMA_TEST_TARGET_GCMA;
	ai.reserved = 1;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai), EINVAL);
	/* flags is (out): what the caller left there is not read */
	ai.reserved = 0;
	ai.index = area;
	ai.flags = ~0ULL;
	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai));
	CHECK_EQ(ai.flags, 0);
	close(fd);
}

static void test_alloc_explicit(void)
{
	int fd = open_dev();
	struct gcma_test_range r = range(GCMA_TEST_TARGET_GCMA, area, 0, base, 16);
	struct gcma_test_area_info before = info_of(fd, GCMA_TEST_TARGET_GCMA, area), ai;

	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r));
	CHECK_EQ(r.start_pfn, base);
	CHECK_EQ(r.count, 16);
	CHECK(r.kernel_ns > 0, "kernel_ns 0");
	ai = info_of(fd, GCMA_TEST_TARGET_GCMA, area);
	CHECK_EQ(ai.allocated, 16);
	CHECK_EQ(ai.owned, 16);
	CHECK_EQ(ai.allocations, before.allocations + 1);

	CHECK_ERR(alloc_at(fd, base, 16, 0), EBUSY);
	CHECK_ERR(alloc_at(fd, base + 15, 2, 0), EBUSY);
	CHECK_ERR(alloc_at(fd, base - 1, 2, 0), ERANGE);
	CHECK_ERR(alloc_at(fd, base + AREA_PAGES - 1, 2, 0), ERANGE);
	CHECK_ERR(alloc_at(fd, base + AREA_PAGES, 1, 0), ERANGE);
	CHECK_ERR(alloc_at(fd, 0, 1, 0), ERANGE);
	CHECK_ERR(alloc_at(fd, base + 16, 0, 0), EINVAL);
	CHECK_ERR(alloc_at(fd, GCMA_TEST_PFN_MAX, 2, 0), EINVAL);
	CHECK_ERR(alloc_at(fd, GCMA_TEST_PFN_MAX + 1, 1, 0), EINVAL);
	CHECK_ERR(alloc_at(fd, UINT64_MAX, 2, 0), EINVAL);
	CHECK_ERR(alloc_at(fd, base + 16, 1, 0x8), EINVAL);

	r = range(GCMA_TEST_TARGET_GCMA, area, 0, base + 16, 1);
	r.reserved0 = 1;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EINVAL);
	r.reserved0 = 0;
	r.reserved[0] = 1;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EINVAL);
	r = range(2, area, 0, base + 16, 1);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EINVAL);
	r = range(GCMA_TEST_TARGET_GCMA, GCMA_TEST_MAX_AREAS, 0, base + 16, 1);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), ENOENT);

	/* None of the failures changed anything */
	ai = info_of(fd, GCMA_TEST_TARGET_GCMA, area);
	CHECK_EQ(ai.allocated, 16);
	CHECK_EQ(ai.allocations, before.allocations + 1);
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, base, 16));
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_GCMA, area), 0);
	close(fd);
}

static void test_alloc_anywhere(void)
{
	int fd = open_dev();
	uint64_t a, b, c;

	CHECK_OK(alloc_at(fd, base + 4, 4, 0));
	/* First fit: before, between and after what is handed out */
	a = alloc_any(fd, 4, 0);
	CHECK_EQ(a, base);
	b = alloc_any(fd, 2, 0);
	CHECK_EQ(b, base + 8);
	c = alloc_any(fd, 16, GCMA_TEST_ALLOC_COMPOUND);
	CHECK_EQ(c % 16, 0);
	CHECK(c >= base + 10 && c + 16 <= base + AREA_PAGES, "compound at %#llx",
	      (unsigned long long)c);
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_GCMA, area), 26);

	CHECK_ERR(alloc_any(fd, AREA_PAGES, 0) == UINT64_MAX ? -1 : 0, ENOMEM);
	CHECK_ERR(alloc_any(fd, 3, GCMA_TEST_ALLOC_COMPOUND) == UINT64_MAX ? -1 : 0, EINVAL);
	CHECK_ERR(alloc_any(fd, 2048, GCMA_TEST_ALLOC_COMPOUND) == UINT64_MAX ? -1 : 0, EINVAL);

	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, base + 4, 4));
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, a, 4));
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, b, 2));
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, c, 16));
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_GCMA, area), 0);

	/* Fill the area, then there is no room left */
	CHECK_EQ(alloc_any(fd, AREA_PAGES, 0), base);
	CHECK_ERR(alloc_any(fd, 1, 0) == UINT64_MAX ? -1 : 0, ENOMEM);
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, base, AREA_PAGES));
	close(fd);
}

static void test_compound(void)
{
	int fd = open_dev();
	/* The first 16-aligned PFN of the area with room for 16 pages */
	uint64_t at = (base + 15) & ~15ULL;

	CHECK_ERR(alloc_at(fd, at + 1, 16, GCMA_TEST_ALLOC_COMPOUND), EINVAL);
	CHECK_ERR(alloc_at(fd, at, 12, GCMA_TEST_ALLOC_COMPOUND), EINVAL);
	CHECK_OK(alloc_at(fd, at, 16, GCMA_TEST_ALLOC_COMPOUND));
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, at, 8), EINVAL);
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, at + 8, 8), EINVAL);
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, at, 17), EINVAL);
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_GCMA, area), 16);
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, at, 16));
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_GCMA, area), 0);
	close(fd);
}

static void test_free(void)
{
	int fd = open_dev();
	struct gcma_test_range r;

	CHECK_OK(alloc_at(fd, base, 16, 0));
	CHECK_OK(alloc_at(fd, base + 16, 8, 0));
	/* Part of an allocation, from the middle: the rest stays allocated */
	r = range(GCMA_TEST_TARGET_GCMA, 0, 0, base + 4, 4);
	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_FREE, &r));
	CHECK_EQ(r.index, area);
	CHECK(r.kernel_ns > 0, "kernel_ns 0");
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_GCMA, area), 20);
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, base + 4, 4), ENOENT);
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, base + 2, 4), EINVAL);
	/* One free covers one allocation */
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, base + 12, 8), EINVAL);
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, base + 24, 1), ENOENT);
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_CMA, base, 4), ENOENT);
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, base, 0), EINVAL);
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, UINT64_MAX, 2), EINVAL);
	CHECK_ERR(free_at(fd, 2, base, 4), EINVAL);
	r = range(GCMA_TEST_TARGET_GCMA, 0, GCMA_TEST_ALLOC_ANYWHERE, base, 4);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_FREE, &r), EINVAL);
	r = range(GCMA_TEST_TARGET_GCMA, 0, 0, base, 4);
	r.reserved[1] = 1;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_FREE, &r), EINVAL);
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_GCMA, area), 20);

	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, base, 4));
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, base + 8, 8));
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, base + 16, 8));
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, base + 16, 8), ENOENT);
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_GCMA, area), 0);
	close(fd);
}

static void test_cma(void)
{
	int fd = open_dev();
	unsigned int dflt = default_cma(fd), n = nr_cma_areas(fd);
	struct gcma_test_area_info before = info_of(fd, GCMA_TEST_TARGET_CMA, dflt), ai;
	struct gcma_test_range r = range(GCMA_TEST_TARGET_CMA, dflt, GCMA_TEST_ALLOC_ANYWHERE, 0, 64);

	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r));
	CHECK(r.start_pfn >= before.base_pfn &&
	      r.start_pfn + 64 <= before.base_pfn + before.count,
	      "CMA range %#llx outside the area", (unsigned long long)r.start_pfn);
	CHECK(r.kernel_ns > 0, "kernel_ns 0");
	ai = info_of(fd, GCMA_TEST_TARGET_CMA, dflt);
	CHECK_EQ(ai.allocated, before.allocated + 64);
	CHECK_EQ(ai.owned, 64);
	CHECK_EQ(ai.allocations, before.allocations + 1);

	/* GCMA-only placements */
	r = range(GCMA_TEST_TARGET_CMA, dflt, 0, before.base_pfn, 1);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EOPNOTSUPP);
	r = range(GCMA_TEST_TARGET_CMA, dflt, GCMA_TEST_ALLOC_ANYWHERE | GCMA_TEST_ALLOC_COMPOUND, 0, 16);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EOPNOTSUPP);
	r = range(GCMA_TEST_TARGET_CMA, n, GCMA_TEST_ALLOC_ANYWHERE, 0, 1);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), ENOENT);
	r = range(GCMA_TEST_TARGET_CMA, dflt, GCMA_TEST_ALLOC_ANYWHERE, 0, before.count + 1);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), ENOMEM);
	CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, dflt).failures, before.failures + 1);

	r = range(GCMA_TEST_TARGET_CMA, dflt, GCMA_TEST_ALLOC_ANYWHERE, 0, 64);
	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r));
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_CMA, r.start_pfn + 16, 16));
	CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_GCMA, r.start_pfn, 16), ENOENT);
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_CMA, r.start_pfn, 16));
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_CMA, r.start_pfn + 32, 32));
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_CMA, dflt), before.allocated + 64);
	/* The first one is freed by close() */
	close(fd);
	fd = open_dev();
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_CMA, dflt), before.allocated);
	close(fd);
}

/*
 * Every CMA area: exactly one default; each guaranteed one is backed by the
 * GCMA area of its name and base, which cma_alloc() allocates from and the
 * GCMA target may not; a plain one has no GCMA area.
 */
static void test_cma_areas(void)
{
	int fd = open_dev();
	unsigned int i, n = nr_cma_areas(fd), defaults = 0, guaranteed = 0;
	struct gcma_test_area_info ai, g;
	struct gcma_test_range r;

	for (i = 0; i < n; i++) {
		ai = info_of(fd, GCMA_TEST_TARGET_CMA, i);
		CHECK_EQ(ai.flags & ~(uint64_t)(GCMA_TEST_AREA_DEFAULT | GCMA_TEST_AREA_GUARANTEED), 0);
		defaults += !!(ai.flags & GCMA_TEST_AREA_DEFAULT);
		/* Index 0 is the default area, as before every area was reachable */
		CHECK_EQ(!!(ai.flags & GCMA_TEST_AREA_DEFAULT), i == 0);
		g = gcma_area_at(fd, ai.base_pfn);
		if (!(ai.flags & GCMA_TEST_AREA_GUARANTEED)) {
			/* An area carved out of it may start at its base */
			CHECK(g.index == -1U || !g.flags, "plain CMA area %s backed by GCMA area %s",
			      ai.name, g.name);
			continue;
		}
		guaranteed++;
		CHECK(g.index != -1U, "guaranteed CMA area %s: no GCMA area at its base", ai.name);
		if (g.index == -1U)
			continue;
		CHECK(!strcmp(g.name, ai.name), "CMA area %s backed by GCMA area %s", ai.name, g.name);
		CHECK_EQ(g.count, ai.count);
		CHECK_EQ(g.flags, GCMA_TEST_AREA_GUARANTEED);
		CHECK_EQ(ai.cached, g.cached);

		/* Its CMA bitmap owns it: not through the GCMA target */
		r = range(GCMA_TEST_TARGET_GCMA, g.index, GCMA_TEST_ALLOC_ANYWHERE, 0, 1);
		CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EOPNOTSUPP);
		r = range(GCMA_TEST_TARGET_GCMA, g.index, 0, g.base_pfn, 1);
		CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EOPNOTSUPP);
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_GCMA, g.index).allocations, g.allocations);

		/* cma_alloc() takes the range from GCMA, cma_release() gives it back */
		r = range(GCMA_TEST_TARGET_CMA, i, GCMA_TEST_ALLOC_ANYWHERE, 0, 24);
		CHECK_OK(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r));
		CHECK(r.start_pfn >= ai.base_pfn && r.start_pfn + 24 <= ai.base_pfn + ai.count,
		      "range %#llx outside %s", (unsigned long long)r.start_pfn, ai.name);
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_GCMA, g.index).allocated, g.allocated + 24);
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, i).allocated, ai.allocated + 24);
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, i).owned, 24);
		CHECK_OK(free_at(fd, GCMA_TEST_TARGET_CMA, r.start_pfn + 8, 16));
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_GCMA, g.index).allocated, g.allocated + 8);
		CHECK_OK(free_at(fd, GCMA_TEST_TARGET_CMA, r.start_pfn, 8));
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_GCMA, g.index).allocated, g.allocated);
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, i).allocated, ai.allocated);
	}
	CHECK_EQ(defaults, 1);
	CHECK(guaranteed > 0, "the boot declares no guaranteed CMA area");
	close(fd);
}

/*
 * dma_alloc_coherent() on the module's device of each CMA area: the range
 * comes from the area (from GCMA for a guaranteed one), aligned to its
 * size rounded up to a power of two, and is freed whole; what the area
 * cannot serve fails, counted, rather than come from the page allocator.
 */
static void test_cma_dma(void)
{
	int fd = open_dev();
	unsigned int i, n = nr_cma_areas(fd);
	struct gcma_test_area_info ai, g;
	struct gcma_test_range r;
	uint64_t g_before = 0;

	for (i = 0; i < n; i++) {
		ai = info_of(fd, GCMA_TEST_TARGET_CMA, i);
		g = gcma_area_at(fd, ai.base_pfn);
		if (!(ai.flags & GCMA_TEST_AREA_GUARANTEED))
			g.index = -1U;
		if (g.index != -1U)
			g_before = g.allocated;
		r = range(GCMA_TEST_TARGET_CMA, i, GCMA_TEST_ALLOC_ANYWHERE | GCMA_TEST_ALLOC_DMA, 0, 3);
		CHECK_OK(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r));
		CHECK(r.start_pfn >= ai.base_pfn && r.start_pfn + 3 <= ai.base_pfn + ai.count,
		      "DMA range %#llx outside %s", (unsigned long long)r.start_pfn, ai.name);
		CHECK_EQ(r.start_pfn % 4, 0);
		CHECK(r.kernel_ns > 0, "kernel_ns 0");
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, i).allocated, ai.allocated + 3);
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, i).allocations, ai.allocations + 1);
		if (g.index != -1U)
			CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_GCMA, g.index).allocated, g_before + 3);
		/* Freed whole only */
		CHECK_ERR(free_at(fd, GCMA_TEST_TARGET_CMA, r.start_pfn, 1), EINVAL);
		CHECK_OK(free_at(fd, GCMA_TEST_TARGET_CMA, r.start_pfn, 3));
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, i).allocated, ai.allocated);
		if (g.index != -1U)
			CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_GCMA, g.index).allocated, g_before);

		r = range(GCMA_TEST_TARGET_CMA, i, GCMA_TEST_ALLOC_DMA, ai.base_pfn, 1);
		CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EOPNOTSUPP);
		/* Larger than the area: never from the page allocator instead */
		r = range(GCMA_TEST_TARGET_CMA, i, GCMA_TEST_ALLOC_ANYWHERE | GCMA_TEST_ALLOC_DMA, 0,
			  ai.count + 1);
		CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), ENOMEM);
		r = range(GCMA_TEST_TARGET_CMA, i, GCMA_TEST_ALLOC_ANYWHERE | GCMA_TEST_ALLOC_DMA, 0,
			  GCMA_TEST_PFN_MAX);
		CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), ENOMEM);
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, i).allocated, ai.allocated);
		CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, i).failures, ai.failures + 2);
		if (g.index != -1U) {
			/*
			 * A full area: dma-direct gets its page from the page
			 * allocator instead, which is no allocation from the area.
			 */
			struct gcma_test_range whole = range(GCMA_TEST_TARGET_CMA, i,
							     GCMA_TEST_ALLOC_ANYWHERE, 0, ai.count);

			CHECK_OK(ioctl(fd, GCMA_TEST_IOC_ALLOC, &whole));
			r = range(GCMA_TEST_TARGET_CMA, i, GCMA_TEST_ALLOC_ANYWHERE | GCMA_TEST_ALLOC_DMA,
				  0, 1);
			CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), ENOMEM);
			CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, i).failures, ai.failures + 3);
			CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_CMA, i).owned, ai.count);
			CHECK_OK(free_at(fd, GCMA_TEST_TARGET_CMA, whole.start_pfn, ai.count));
		}
		r = range(GCMA_TEST_TARGET_CMA, i, GCMA_TEST_ALLOC_ANYWHERE | GCMA_TEST_ALLOC_DMA |
			  GCMA_TEST_ALLOC_COMPOUND, 0, 4);
		CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EOPNOTSUPP);
	}
	/* A GCMA area has no device */
	r = range(GCMA_TEST_TARGET_GCMA, area, GCMA_TEST_ALLOC_ANYWHERE | GCMA_TEST_ALLOC_DMA, 0, 1);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EOPNOTSUPP);
	r = range(GCMA_TEST_TARGET_CMA, n, GCMA_TEST_ALLOC_ANYWHERE | GCMA_TEST_ALLOC_DMA, 0, 1);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), ENOENT);
	r = range(GCMA_TEST_TARGET_CMA, 0, GCMA_TEST_ALLOC_ANYWHERE | 0x8, 0, 1);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), EINVAL);
	close(fd);
}

static void test_ownership(void)
{
	int fd1 = open_dev(), fd2 = open_dev();
	struct gcma_test_area_info ai;

	CHECK_OK(alloc_at(fd1, base, 32, 0));
	CHECK_ERR(free_at(fd2, GCMA_TEST_TARGET_GCMA, base, 32), EACCES);
	CHECK_ERR(free_at(fd2, GCMA_TEST_TARGET_GCMA, base + 8, 1), EACCES);
	CHECK_ERR(alloc_at(fd2, base + 8, 1, 0), EBUSY);
	CHECK_EQ(info_of(fd2, GCMA_TEST_TARGET_GCMA, area).owned, 0);
	ai = info_of(fd1, GCMA_TEST_TARGET_GCMA, area);
	CHECK_EQ(ai.owned, 32);
	CHECK_EQ(ai.allocated, 32);

	/* Closing fd1 frees its range: fd2 can take it */
	close(fd1);
	CHECK_EQ(allocated(fd2, GCMA_TEST_TARGET_GCMA, area), 0);
	CHECK_OK(alloc_at(fd2, base, 32, 0));
	CHECK_EQ(info_of(fd2, GCMA_TEST_TARGET_GCMA, area).owned, 32);
	close(fd2);
	fd1 = open_dev();
	CHECK_EQ(allocated(fd1, GCMA_TEST_TARGET_GCMA, area), 0);
	close(fd1);
}

static void test_close_frees_everything(void)
{
	int fd = open_dev(), probe = open_dev();
	uint64_t cma_before = allocated(probe, GCMA_TEST_TARGET_CMA, 0);
	struct gcma_test_range r = range(GCMA_TEST_TARGET_CMA, 0, GCMA_TEST_ALLOC_ANYWHERE, 0, 128);

	CHECK_OK(alloc_at(fd, base, 8, 0));
	CHECK(alloc_any(fd, 8, 0) != UINT64_MAX, "anywhere: %s", strerror(errno));
	CHECK(alloc_any(fd, 32, GCMA_TEST_ALLOC_COMPOUND) != UINT64_MAX,
	      "compound: %s", strerror(errno));
	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r));
	CHECK_EQ(allocated(probe, GCMA_TEST_TARGET_GCMA, area), 48);
	CHECK_EQ(allocated(probe, GCMA_TEST_TARGET_CMA, 0), cma_before + 128);
	close(fd);
	CHECK_EQ(allocated(probe, GCMA_TEST_TARGET_GCMA, area), 0);
	CHECK_EQ(allocated(probe, GCMA_TEST_TARGET_CMA, 0), cma_before);
	close(probe);
}

/* A process killed while it allocates and frees as fast as it can */
static void test_killed_process(void)
{
	int probe = open_dev(), ready[2];
	uint64_t cma_before = allocated(probe, GCMA_TEST_TARGET_CMA, 0);
	pid_t pid;
	int status;
	char c;

	CHECK_OK(pipe(ready));
	pid = fork();
	if (pid == 0) {
		int fd = open_dev();
		struct gcma_test_range r = range(GCMA_TEST_TARGET_CMA, 0,
						 GCMA_TEST_ALLOC_ANYWHERE, 0, 16);

		if (alloc_at(fd, base, 64, 0) || ioctl(fd, GCMA_TEST_IOC_ALLOC, &r))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;) {
			uint64_t pfn = alloc_any(fd, 8, 0);

			if (pfn != UINT64_MAX)
				free_at(fd, GCMA_TEST_TARGET_GCMA, pfn, 8);
		}
	}
	close(ready[1]);
	CHECK(read(ready[0], &c, 1) == 1, "child did not allocate");
	close(ready[0]);
	usleep(50000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %#x", status);
	CHECK_EQ(allocated(probe, GCMA_TEST_TARGET_GCMA, area), 0);
	CHECK_EQ(allocated(probe, GCMA_TEST_TARGET_CMA, 0), cma_before);
	close(probe);
}

/* Run @fn as user nobody, without capabilities; its exit status. */
static int as_nobody(int (*fn)(int), int fd)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(100);
		_exit(fn(fd));
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

static int nobody_opens(int fd)
{
	(void)fd;
	return open(GCMA_TEST_DEVICE, O_RDWR) < 0 && errno == EACCES ? 0 : 1;
}

static int nobody_uses_root_fd(int fd)
{
	struct gcma_test_version v = { 0 };
	struct gcma_test_range r = range(GCMA_TEST_TARGET_GCMA, area, 0, base, 1);

	if (ioctl(fd, GCMA_TEST_IOC_VERSION, &v) != -1 || errno != EPERM)
		return 1;
	if (ioctl(fd, GCMA_TEST_IOC_ALLOC, &r) != -1 || errno != EPERM)
		return 2;
	r.count = 8;
	if (ioctl(fd, GCMA_TEST_IOC_FREE, &r) != -1 || errno != EPERM)
		return 3;
	/* Unknown commands stay unknown */
	if (ioctl(fd, _IOWR(GCMA_TEST_IOC_MAGIC, 0x0f, struct gcma_test_range), &r) != -1 ||
	    errno != ENOTTY)
		return 4;
	return 0;
}

static void test_unprivileged(void)
{
	int fd = open_dev();

	CHECK_EQ(as_nobody(nobody_opens, -1), 0);
	CHECK_OK(alloc_at(fd, base, 8, 0));
	CHECK_EQ(as_nobody(nobody_uses_root_fd, fd), 0);
	/* The refused free did nothing */
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_GCMA, area), 8);
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, base, 8));
	close(fd);
}

/* The result cannot be written back: the allocation is undone. */
static void test_unwritable_result(void)
{
	int fd = open_dev();
	long page = sysconf(_SC_PAGESIZE);
	uint64_t cma_before = allocated(fd, GCMA_TEST_TARGET_CMA, 0);
	struct gcma_test_range *r = mmap(NULL, page, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(r != MAP_FAILED, "mmap: %s", strerror(errno));
	if (r == MAP_FAILED)
		return;
	*r = range(GCMA_TEST_TARGET_GCMA, area, GCMA_TEST_ALLOC_ANYWHERE, 0, 8);
	CHECK_OK(mprotect(r, page, PROT_READ));
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, r), EFAULT);
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_GCMA, area), 0);
	CHECK_EQ(info_of(fd, GCMA_TEST_TARGET_GCMA, area).owned, 0);

	CHECK_OK(mprotect(r, page, PROT_READ | PROT_WRITE));
	*r = range(GCMA_TEST_TARGET_CMA, 0, GCMA_TEST_ALLOC_ANYWHERE, 0, 8);
	CHECK_OK(mprotect(r, page, PROT_READ));
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, r), EFAULT);
	CHECK_EQ(allocated(fd, GCMA_TEST_TARGET_CMA, 0), cma_before);
	munmap(r, page);
	/* The whole area is free again */
	CHECK_OK(alloc_at(fd, base, AREA_PAGES, 0));
	CHECK_OK(free_at(fd, GCMA_TEST_TARGET_GCMA, base, AREA_PAGES));
	close(fd);
}

/* GCMA's limit: -ENOSPC once GCMA_TEST_MAX_AREAS areas exist. */
static void test_area_limit(void)
{
	int fd = open_dev();
	struct gcma_test_area_info ai = { 0 };
	unsigned int n = 0, registered = 0;
	char name[GCMA_TEST_NAME_LEN];

	while (!ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai))
		ai.index = ++n;
	CHECK(n < GCMA_TEST_MAX_AREAS, "%u areas at start", n);
	while (n + registered < GCMA_TEST_MAX_AREAS) {
		snprintf(name, sizeof(name), "limit-%u", registered);
		if (register_area(fd, name, 1, NULL)) {
			fail("register %s: %s", name, strerror(errno));
			break;
		}
		registered++;
	}
	CHECK_ERR(register_area(fd, "limit-last", 1, NULL), ENOSPC);
	/* Checked before the name: the limit is what the caller hits */
	CHECK_ERR(register_area(fd, "limit-0", 1, NULL), ENOSPC);
	ai.index = GCMA_TEST_MAX_AREAS - 1;
	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai));
	ai.index = GCMA_TEST_MAX_AREAS;
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai), ENOENT);
	printf("# %u areas registered, %u existed\n", registered, n);
	close(fd);
}

static void test_no_cma(void)
{
	int fd = open_dev();
	struct gcma_test_version v = { 0 };
	struct gcma_test_area_info ai = { .target = GCMA_TEST_TARGET_CMA };
	struct gcma_test_range r = range(GCMA_TEST_TARGET_CMA, 0, GCMA_TEST_ALLOC_ANYWHERE, 0, 1);

	CHECK_OK(ioctl(fd, GCMA_TEST_IOC_VERSION, &v));
	CHECK_EQ(v.features, GCMA_TEST_FEATURE_GCMA | GCMA_TEST_FEATURE_CMA_AREAS);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &ai), ENOENT);
	CHECK_ERR(ioctl(fd, GCMA_TEST_IOC_ALLOC, &r), ENOENT);
	CHECK_ERR(register_area_flags(fd, "no-cma", 1, GCMA_TEST_REGISTER_FROM_CMA), ENODEV);
	close(fd);
}

static const struct test device_tests[] = {
	{ "version", test_version },
	{ "unknown commands: ENOTTY", test_unknown_commands },
	{ "unreadable arguments: EFAULT", test_bad_pointers },
	{ "register an area", test_register },
	{ "register errors", test_register_errors },
	{ "register from the CMA area", test_register_from_cma },
	{ "area info", test_area_info },
	{ "alloc at a PFN, and its errors", test_alloc_explicit },
	{ "alloc anywhere: first fit", test_alloc_anywhere },
	{ "compound ranges", test_compound },
	{ "free, and its errors", test_free },
	{ "CMA target", test_cma },
	{ "every CMA area, guaranteed ones through GCMA", test_cma_areas },
	{ "dma_alloc_coherent() from each CMA area", test_cma_dma },
	{ "ownership across open files", test_ownership },
	{ "close frees everything", test_close_frees_everything },
	{ "killed process: its ranges are freed", test_killed_process },
	{ "unprivileged callers: EACCES, EPERM", test_unprivileged },
	{ "unwritable result: allocation undone", test_unwritable_result },
	{ NULL, NULL },
};

/* Booted without cma=, in a boot of its own: it uses up GCMA's areas. */
static const struct test limit_tests[] = {
	{ "no CMA area: ENOENT, ENODEV", test_no_cma },
	{ "area limit: ENOSPC", test_area_limit },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	const struct test *tests_to_run = device_tests, *t;
	bool list = false;
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "area-limit")) {
			tests_to_run = limit_tests;
		} else if (!strcmp(argv[i], "--list")) {
			list = true;
		} else {
			fprintf(stderr, "usage: %s [--list] [area-limit]\n", argv[0]);
			return 2;
		}
	}
	for (t = tests_to_run; t->name; t++)
		n++;
	if (list) {
		for (t = tests_to_run; t->name; t++)
			printf("%s\n", t->name);
		return 0;
	}
	printf("TAP version 13\n1..%d\n", n);
	for (t = tests_to_run; t->name; t++)
		run(t->name, t->fn);
	return failed_tests ? 1 : 0;
}
