// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's C side of dma-buf heap allocation latency (the
 * JavaScript side is lib/bench/heaps.ts, in the same run):
 *
 *   dma_heap_alloc BYTES ROUNDS HEAP...
 *
 * Allocates BYTES from each HEAP (a name in /dev/dma_heap) in turn, ROUNDS
 * rounds, timing DMA_HEAP_IOCTL_ALLOC (the heap zeroes the buffer in it)
 * and the close that frees the buffer, and prints one JSON line per heap:
 *
 *   {"heap":"reserved","bytes":1048576,"allocNs":[...],"freeNs":[...],"failures":{"ENOMEM":1}}
 *
 * A failed allocation is counted by its errno's name. Exit status 2 for
 * bad arguments or a heap that cannot be opened, 1 if memory ran out here.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "bench.h"

#define MAX_HEAPS	8
#define MAX_ROUNDS	100000

struct heap_run {
	const char *name;
	int fd;
	unsigned long successes;
	__u64 *alloc_ns;
	__u64 *free_ns;
	struct errno_tally failures;
};

static void alloc_once(struct heap_run *h, size_t bytes)
{
	struct dma_heap_allocation_data data = {
		.len = bytes,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	__u64 t0, t1, t2;

	t0 = now_ns();
	if (ioctl(h->fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0) {
		tally_errno(&h->failures, errno);
		return;
	}
	t1 = now_ns();
	close(data.fd);
	t2 = now_ns();
	h->alloc_ns[h->successes] = t1 - t0;
	h->free_ns[h->successes] = t2 - t1;
	h->successes++;
}

static void print_run(const struct heap_run *h, size_t bytes)
{
	printf("{\"heap\":\"%s\",\"bytes\":%zu,", h->name, bytes);
	print_ns("allocNs", h->alloc_ns, h->successes);
	printf(",");
	print_ns("freeNs", h->free_ns, h->successes);
	printf(",");
	print_tally(&h->failures);
	printf("}\n");
}

int main(int argc, char **argv)
{
	struct heap_run heaps[MAX_HEAPS] = { 0 };
	unsigned long long bytes, rounds, r;
	int i, n = argc - 3;
	char path[256];

	if (n < 1 || n > MAX_HEAPS || parse_count(argv[1], 1, SIZE_MAX, &bytes) ||
	    parse_count(argv[2], 1, MAX_ROUNDS, &rounds)) {
		fprintf(stderr,
			"usage: %s BYTES ROUNDS HEAP... (1 to %d heaps, at most %d rounds)\n",
			argv[0], MAX_HEAPS, MAX_ROUNDS);
		return 2;
	}
	for (i = 0; i < n; i++) {
		struct heap_run *h = &heaps[i];

		h->name = argv[3 + i];
		/* Printed in JSON as it is: no quote or backslash */
		if (strpbrk(h->name, "/\"\\") ||
		    snprintf(path, sizeof(path), "/dev/dma_heap/%s", h->name) >=
		    (int)sizeof(path)) {
			fprintf(stderr, "%s: not a heap name\n", h->name);
			return 2;
		}
		h->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (h->fd < 0) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return 2;
		}
		h->alloc_ns = calloc(rounds, sizeof(*h->alloc_ns));
		h->free_ns = calloc(rounds, sizeof(*h->free_ns));
		if (!h->alloc_ns || !h->free_ns) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
	}
	/* Heap after heap within a round: each sees the same pressure */
	for (r = 0; r < rounds; r++)
		for (i = 0; i < n; i++)
			alloc_once(&heaps[i], bytes);
	for (i = 0; i < n; i++)
		print_run(&heaps[i], bytes);
	return 0;
}
