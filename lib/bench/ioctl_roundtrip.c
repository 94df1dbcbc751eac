// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's C caller of /dev/gcma_test, the baseline that the
 * JavaScript calls through the addon are compared with (lib/bench/
 * roundtrip.ts, in the same run):
 *
 *   ioctl_roundtrip ROUNDS AREA PAGES
 *
 * On GCMA area AREA (an index), ROUNDS times GCMA_TEST_IOC_AREA_INFO (a
 * round trip that allocates nothing), then ROUNDS times
 * GCMA_TEST_IOC_ALLOC of PAGES pages anywhere, each followed by its
 * GCMA_TEST_IOC_FREE (not timed). Prints one JSON line:
 *
 *   {"infoNs":[...],"allocNs":[...],"allocKernelNs":[...],"failures":{}}
 *
 * allocKernelNs: each allocation's time in the kernel's allocator
 * (kernel_ns), so that the time outside it can be told apart.
 *
 * Exit status 2 for bad arguments or no device, 1 if memory ran out here.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/gcma_test.h>
#include "bench.h"

#define MAX_ROUNDS	100000

int main(int argc, char **argv)
{
	unsigned long long rounds, area, pages, r;
	unsigned long infos = 0, allocs = 0;
	struct errno_tally failures = { 0 };
	__u64 *info_ns, *alloc_ns, *alloc_kernel_ns, t0;
	int fd;

	if (argc != 4 || parse_count(argv[1], 1, MAX_ROUNDS, &rounds) ||
	    parse_count(argv[2], 0, 0xffffffffu, &area) ||
	    parse_count(argv[3], 1, 1u << 30, &pages)) {
		fprintf(stderr, "usage: %s ROUNDS AREA PAGES (at most %d rounds)\n",
			argv[0], MAX_ROUNDS);
		return 2;
	}
	fd = open("/dev/gcma_test", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "/dev/gcma_test: %s\n", strerror(errno));
		return 2;
	}
	info_ns = calloc(rounds, sizeof(*info_ns));
	alloc_ns = calloc(rounds, sizeof(*alloc_ns));
	alloc_kernel_ns = calloc(rounds, sizeof(*alloc_kernel_ns));
	if (!info_ns || !alloc_ns || !alloc_kernel_ns) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (r = 0; r < rounds; r++) {
		struct gcma_test_area_info info = {
			.target = GCMA_TEST_TARGET_GCMA,
			.index = area,
		};

		t0 = now_ns();
		if (ioctl(fd, GCMA_TEST_IOC_AREA_INFO, &info) < 0) {
			tally_errno(&failures, errno);
			continue;
		}
		info_ns[infos++] = now_ns() - t0;
	}
	for (r = 0; r < rounds; r++) {
		struct gcma_test_range range = {
			.target = GCMA_TEST_TARGET_GCMA,
			.index = area,
			.flags = GCMA_TEST_ALLOC_ANYWHERE,
			.count = pages,
		};

		t0 = now_ns();
		if (ioctl(fd, GCMA_TEST_IOC_ALLOC, &range) < 0) {
			tally_errno(&failures, errno);
			continue;
		}
		alloc_ns[allocs] = now_ns() - t0;
		alloc_kernel_ns[allocs++] = range.kernel_ns;
		range.flags = 0;
		if (ioctl(fd, GCMA_TEST_IOC_FREE, &range) < 0) {
			fprintf(stderr, "free: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("{");
	print_ns("infoNs", info_ns, infos);
	printf(",");
	print_ns("allocNs", alloc_ns, allocs);
	printf(",");
	print_ns("allocKernelNs", alloc_kernel_ns, allocs);
	printf(",");
	print_tally(&failures);
	printf("}\n");
	close(fd);
	return 0;
}
