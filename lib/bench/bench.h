/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmark's C programs share (dma_heap_alloc.c,
 * ioctl_roundtrip.c): a monotonic clock in ns, JSON arrays of samples,
 * and failures counted by errno, printed by errno name.
 */
#ifndef GCMA_BENCH_H
#define GCMA_BENCH_H

#include <errno.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ERRNOS	8

struct errno_tally {
	int errnos[MAX_ERRNOS];
	unsigned long counts[MAX_ERRNOS];
	int n;
};

static inline __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* A decimal count in [min, max], or -1 */
static inline int parse_count(const char *text, unsigned long long min,
			      unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 10);
	return errno || end == text || *end || *text == '-' || *out < min ||
	       *out > max ? -1 : 0;
}

static inline void tally_errno(struct errno_tally *t, int err)
{
	int i;

	for (i = 0; i < t->n && t->errnos[i] != err; i++)
		;
	if (i == MAX_ERRNOS)
		i--;	/* more kinds than expected: counted with the last */
	else if (i == t->n)
		t->errnos[t->n++] = err;
	t->counts[i]++;
}

/* "KEY":[n,...] */
static inline void print_ns(const char *key, const __u64 *ns, unsigned long n)
{
	unsigned long i;

	printf("\"%s\":[", key);
	for (i = 0; i < n; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)ns[i]);
	printf("]");
}

/* "failures":{"ENOMEM":1,...} */
static inline void print_tally(const struct errno_tally *t)
{
	int i;

	printf("\"failures\":{");
	for (i = 0; i < t->n; i++)
		printf("%s\"%s\":%lu", i ? "," : "",
		       strerrorname_np(t->errnos[i]) ?: "EUNKNOWN", t->counts[i]);
	printf("}");
}

#endif /* GCMA_BENCH_H */
