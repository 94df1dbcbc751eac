/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP for the C tests of test/uapi: a case is a function whose CHECKs
 * print "#" diagnostics and fail it; run() prints its "ok"/"not ok" line.
 * Each program prints "TAP version 13" and its plan itself.
 */
#ifndef GCMA_TEST_TAP_H
#define GCMA_TEST_TAP_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tests, failed_tests;
static bool case_failed;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("#   ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	case_failed = true;
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)
#define CHECK_EQ(a, b) CHECK((a) == (b), "%s:%d: %s == %llu, expected %llu", \
	__FILE__, __LINE__, #a, (unsigned long long)(a), (unsigned long long)(b))

/* A call that must fail with @err (-1 and errno). */
#define CHECK_ERR(call, err) do {					\
	errno = 0;							\
	int ret_ = (call);						\
	CHECK(ret_ == -1 && errno == (err), "%s:%d: %s: %d (%s), expected %s", \
	      __FILE__, __LINE__, #call, ret_, strerror(errno), strerror(err)); \
} while (0)

#define CHECK_OK(call) do {						\
	int ret_ = (call);						\
	CHECK(ret_ == 0, "%s:%d: %s: %s", __FILE__, __LINE__, #call,	\
	      strerror(errno));						\
} while (0)

/* open(2) what the cases need, or give the whole run up */
static int open_or_bail_out(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0) {
		printf("Bail out! open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* A case of a program's table: its TAP name and its function */
struct test {
	const char *name;
	void (*fn)(void);
};

static void run(const char *name, void (*fn)(void))
{
	case_failed = false;
	fn();
	tests++;
	if (case_failed)
		failed_tests++;
	printf("%s %d - %s\n", case_failed ? "not ok" : "ok", tests, name);
	fflush(stdout);
}

#endif
