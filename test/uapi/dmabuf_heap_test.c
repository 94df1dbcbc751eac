// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf_heap_test: the cases of the kernel's dma-buf heap selftest
 * (tools/testing/selftests/dmabuf-heaps), written for this project,
 * against every heap in /dev/dma_heap or those named; prints TAP.
 *
 *   dmabuf_heap_test [--list] [HEAP...]
 *
 * Per heap: allocate, mmap, DMA_BUF_IOCTL_SYNC, write and read back;
 * buffers zeroed (32 of 4 KiB and of 1 MiB filled, closed, allocated
 * again); the allocation struct smaller and larger than the kernel's; bad
 * heap flags, fd flags, length and sync flags; a read-only buffer. Once:
 * the ioctl on a file that is no heap.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include "tap.h"

#define HEAP_DIR	"/dev/dma_heap"
#define MAX_HEAPS	64
#define ZEROED_BUFFERS	32

static char heap_path[256];

static int open_heap(void)
{
	return open_or_bail_out(heap_path, O_RDONLY | O_CLOEXEC);
}

/* A dma-buf of @len bytes, or -1 with errno */
static int heap_alloc(int heap, uint64_t len, uint32_t fd_flags, uint64_t heap_flags)
{
	struct dma_heap_allocation_data data = {
		.len = len, .fd_flags = fd_flags, .heap_flags = heap_flags,
	};

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -1;
	return data.fd;
}

static int buf_sync(int buf, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(buf, DMA_BUF_IOCTL_SYNC, &sync);
}

static void test_alloc_map_sync(void)
{
	const size_t len = 1 << 20;
	int heap = open_heap(), buf;
	uint8_t *p;
	size_t i, bad = 0;

	buf = heap_alloc(heap, len, O_RDWR | O_CLOEXEC, 0);
	CHECK(buf >= 0, "alloc %zu bytes: %s", len, strerror(errno));
	if (buf < 0)
		goto out;
	CHECK_EQ(lseek(buf, 0, SEEK_END), len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	if (p == MAP_FAILED)
		goto close_buf;
	CHECK_OK(buf_sync(buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 1);
	CHECK_OK(buf_sync(buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	munmap(p, len);

	/* A new mapping sees what the first one wrote */
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, buf, 0);
	CHECK(p != MAP_FAILED, "mmap again: %s", strerror(errno));
	if (p == MAP_FAILED)
		goto close_buf;
	CHECK_OK(buf_sync(buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	for (i = 0; i < len; i++)
		bad += p[i] != (uint8_t)(i * 7 + 1);
	CHECK_OK(buf_sync(buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	CHECK_EQ(bad, 0);
	/* Past the end of the buffer: no mapping */
	CHECK(mmap(NULL, 2 * len, PROT_READ, MAP_SHARED, buf, 0) == MAP_FAILED,
	      "a mapping twice the buffer's size succeeded");
	munmap(p, len);
close_buf:
	close(buf);
out:
	close(heap);
}

/*
 * ZEROED_BUFFERS buffers of @len filled with a pattern and closed: the
 * next ones, very likely the same pages, read as zeroes.
 */
static void check_zeroed(size_t len)
{
	int heap = open_heap(), bufs[ZEROED_BUFFERS];
	size_t i, j, nonzero = 0;
	uint8_t *p;

	for (i = 0; i < ZEROED_BUFFERS; i++) {
		bufs[i] = heap_alloc(heap, len, O_RDWR | O_CLOEXEC, 0);
		CHECK(bufs[i] >= 0, "alloc %zu: %s", i, strerror(errno));
		if (bufs[i] < 0)
			continue;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bufs[i], 0);
		CHECK(p != MAP_FAILED, "mmap %zu: %s", i, strerror(errno));
		if (p == MAP_FAILED)
			continue;
		memset(p, 0xa5, len);
		munmap(p, len);
	}
	for (i = 0; i < ZEROED_BUFFERS; i++)
		if (bufs[i] >= 0)
			close(bufs[i]);

	for (i = 0; i < ZEROED_BUFFERS; i++) {
		bufs[i] = heap_alloc(heap, len, O_RDWR | O_CLOEXEC, 0);
		CHECK(bufs[i] >= 0, "alloc %zu again: %s", i, strerror(errno));
		if (bufs[i] < 0)
			continue;
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, bufs[i], 0);
		CHECK(p != MAP_FAILED, "mmap %zu again: %s", i, strerror(errno));
		if (p == MAP_FAILED)
			continue;
		for (j = 0; j < len; j++)
			nonzero += p[j] != 0;
		munmap(p, len);
	}
	for (i = 0; i < ZEROED_BUFFERS; i++)
		if (bufs[i] >= 0)
			close(bufs[i]);
	CHECK_EQ(nonzero, 0);
	close(heap);
}

static void test_zeroed_4k(void)
{
	check_zeroed(4096);
}

static void test_zeroed_1m(void)
{
	check_zeroed(1 << 20);
}

/* The struct before heap_flags, as an older user space would pass it */
struct alloc_older {
	uint64_t len;
	uint32_t fd;
	uint32_t fd_flags;
};

/* A later, larger struct: the kernel reads what it knows of it */
struct alloc_newer {
	uint64_t len;
	uint32_t fd;
	uint32_t fd_flags;
	uint64_t heap_flags;
	uint64_t later[3];
};

static void test_struct_sizes(void)
{
	struct { struct alloc_older a; uint64_t canary; } older = {
		.a = { .len = 4096, .fd_flags = O_RDWR | O_CLOEXEC },
		.canary = 0x0123456789abcdefULL,
	};
	struct alloc_newer newer = {
		.len = 4096, .fd_flags = O_RDWR | O_CLOEXEC,
		.later = { 0xffffffff, 0xffffffff, 0xffffffff },
	};
	int heap = open_heap();

	CHECK_OK(ioctl(heap, _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, struct alloc_older), &older.a));
	CHECK(older.a.fd > 2, "older struct: fd %u", older.a.fd);
	/* Written back at the caller's size, not the kernel's */
	CHECK_EQ(older.canary, 0x0123456789abcdefULL);
	close(older.a.fd);

	CHECK_OK(ioctl(heap, _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, struct alloc_newer), &newer));
	CHECK(newer.fd > 2, "newer struct: fd %u", newer.fd);
	close(newer.fd);
	close(heap);
}

static void test_bad_arguments(void)
{
	int heap = open_heap(), buf;

	CHECK_ERR(heap_alloc(heap, 4096, O_RDWR | O_CLOEXEC, ~0ULL), EINVAL);
	CHECK_ERR(heap_alloc(heap, 4096, O_RDWR | O_CLOEXEC, 1), EINVAL);
	CHECK_ERR(heap_alloc(heap, 4096, ~0U, 0), EINVAL);
	CHECK_ERR(heap_alloc(heap, 4096, O_RDWR | O_NONBLOCK, 0), EINVAL);
	CHECK_ERR(heap_alloc(heap, 0, O_RDWR | O_CLOEXEC, 0), EINVAL);
	/* An unknown command number of the heap's magic */
	CHECK_ERR(ioctl(heap, _IOWR(DMA_HEAP_IOC_MAGIC, 0x1, struct dma_heap_allocation_data),
			&(struct dma_heap_allocation_data){ .len = 4096 }), EINVAL);

	buf = heap_alloc(heap, 4096, O_RDWR | O_CLOEXEC, 0);
	CHECK(buf >= 0, "alloc: %s", strerror(errno));
	if (buf >= 0) {
		CHECK_ERR(buf_sync(buf, DMA_BUF_SYNC_START), EINVAL);	/* neither read nor write */
		CHECK_ERR(buf_sync(buf, DMA_BUF_SYNC_RW | 0x8), EINVAL);
		CHECK_OK(buf_sync(buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
		CHECK_OK(buf_sync(buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
		close(buf);
	}
	close(heap);
}

static void test_read_only(void)
{
	int heap = open_heap(), buf;
	void *p;

	buf = heap_alloc(heap, 4096, O_RDONLY | O_CLOEXEC, 0);
	CHECK(buf >= 0, "alloc O_RDONLY: %s", strerror(errno));
	if (buf >= 0) {
		CHECK_EQ(fcntl(buf, F_GETFL) & O_ACCMODE, O_RDONLY);
		errno = 0;
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
		CHECK(p == MAP_FAILED && errno == EACCES, "writable mapping of a read-only buffer: %s",
		      p == MAP_FAILED ? strerror(errno) : "mapped");
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, buf, 0);
		CHECK(p != MAP_FAILED, "read-only mapping: %s", strerror(errno));
		if (p != MAP_FAILED)
			munmap(p, 4096);
		close(buf);
	}
	close(heap);
}

static void test_not_a_heap(void)
{
	struct dma_heap_allocation_data data = { .len = 4096, .fd_flags = O_RDWR };
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	CHECK_ERR(ioctl(-1, DMA_HEAP_IOCTL_ALLOC, &data), EBADF);
	CHECK_ERR(ioctl(null, DMA_HEAP_IOCTL_ALLOC, &data), ENOTTY);
	close(null);
}

/* Run for each heap, as "HEAP: name" */
static const struct test heap_cases[] = {
	{ "allocate, mmap, sync, write and read back", test_alloc_map_sync },
	{ "32 buffers of 4 KiB come zeroed", test_zeroed_4k },
	{ "32 buffers of 1 MiB come zeroed", test_zeroed_1m },
	{ "the allocation struct smaller and larger than the kernel's", test_struct_sizes },
	{ "bad heap flags, fd flags, length, command and sync flags", test_bad_arguments },
	{ "a read-only buffer maps read-only", test_read_only },
	{ NULL, NULL },
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The heaps in HEAP_DIR, sorted */
static int list_heaps(char **names)
{
	DIR *d = opendir(HEAP_DIR);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < MAX_HEAPS)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	return n;
}

int main(int argc, char **argv)
{
	char *heaps[MAX_HEAPS], name[512];
	const struct test *c;
	int i, nheaps = 0, ncases = 0;
	bool list = false;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--list"))
			list = true;
		else if (nheaps < MAX_HEAPS)
			heaps[nheaps++] = argv[i];
	}
	if (!nheaps)
		nheaps = list_heaps(heaps);
	for (c = heap_cases; c->name; c++)
		ncases++;

	if (!list)
		printf("TAP version 13\n1..%d\n", nheaps * ncases + 1);
	for (i = 0; i < nheaps; i++) {
		snprintf(heap_path, sizeof(heap_path), "%s/%s", HEAP_DIR, heaps[i]);
		for (c = heap_cases; c->name; c++) {
			snprintf(name, sizeof(name), "%s: %s", heaps[i], c->name);
			if (list)
				printf("%s\n", name);
			else
				run(name, c->fn);
		}
	}
	if (list)
		printf("an allocation from what is no heap fails\n");
	else
		run("an allocation from what is no heap fails", test_not_a_heap);
	return failed_tests ? 1 : 0;
}
