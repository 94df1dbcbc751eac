// SPDX-License-Identifier: GPL-2.0
/*
 * PID 1 of the gcma test VM (see lib/vm/runner.ts), built static by the
 * runner (lib/vm/guest-init.ts).
 *
 * The root filesystem is the host's / over 9p, read-only; everything the
 * guest writes goes to tmpfs or to the results share. The job that the host
 * wrote to the results share (job.sh, lib/vm/job.ts) runs with its output on
 * ttyS1 (the host's job channel, separate from the kernel console on
 * ttyS0); its exit status is written back before the guest powers off.
 *
 * A program rather than a shell script: under TCG every exec of a dynamic
 * binary from the 9p root costs 0.1-0.3 s (0.5 s and more with a second
 * guest beside), and a script needs about 25 of them before the job starts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define RESULTS "/run/gcma-results"
#define KEEP_DIR "/run/gcma-keep"
#define MAX_KEEP 16

static void warn_errno(const char *what, const char *path)
{
	fprintf(stderr, "gcma-vm init: %s %s: %s\n", what, path, strerror(errno));
}

static int do_mount(const char *src, const char *dir, const char *type,
		    unsigned long flags, const char *data)
{
	int err = mount(src, dir, type, flags, data);

	if (err)
		warn_errno("mount", dir);
	return err;
}

/* mkdir -p */
static void make_dirs(const char *path, mode_t mode)
{
	char buf[4096];
	size_t i, len = strlen(path);

	if (len >= sizeof(buf))
		return;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			warn_errno("mkdir", buf);
		buf[i] = path[i];
	}
}

/* Whether @path is @dir or below it */
static int is_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/*
 * A tmpfs over @dir that does not hide the host paths the job needs
 * (GCMA_KEEP, colon-separated: the checkout, the job's cwd), e.g. a
 * checkout under /tmp: those are bound aside and moved back on top.
 */
static void writable(const char *dir, const char *mode)
{
	char keep_env[4096], *keep[MAX_KEEP], aside[64], opts[32];
	const char *env = getenv("GCMA_KEEP");
	char *save = NULL, *k;
	int i, n = 0;

	snprintf(keep_env, sizeof(keep_env), "%s", env ? env : "");
	for (k = strtok_r(keep_env, ":", &save); k && n < MAX_KEEP;
	     k = strtok_r(NULL, ":", &save)) {
		if (!is_below(k, dir))
			continue;
		snprintf(aside, sizeof(aside), KEEP_DIR "/%d", n);
		make_dirs(aside, 0755);
		if (do_mount(k, aside, NULL, MS_BIND, NULL))
			continue;
		keep[n++] = k;
	}
	snprintf(opts, sizeof(opts), "mode=%s", mode);
	do_mount("tmpfs", dir, "tmpfs", 0, opts);
	for (i = 0; i < n; i++) {
		snprintf(aside, sizeof(aside), KEEP_DIR "/%d", i);
		make_dirs(keep[i], 0755);
		do_mount(aside, keep[i], NULL, MS_MOVE, NULL);
	}
}

static int mounted(const char *dir)
{
	char line[512], want[256];
	FILE *f = fopen("/proc/mounts", "r");
	int found = 0;

	if (!f)
		return 0;
	snprintf(want, sizeof(want), " %s ", dir);
	while (!found && fgets(line, sizeof(line), f))
		found = !!strstr(line, want);
	fclose(f);
	return found;
}

/* The job channel, raw (no echo, no newline translation) */
static int open_job_channel(void)
{
	struct termios t;
	int fd = open("/dev/ttyS1", O_RDWR | O_NOCTTY);

	if (fd < 0) {
		warn_errno("open", "/dev/ttyS1");
		return -1;
	}
	if (!tcgetattr(fd, &t)) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

/* Run job.sh with its output on @out; its exit status as sh's $? says it */
static int run_job(int out)
{
	int status, in;
	pid_t pid, done;

	pid = fork();
	if (pid < 0) {
		warn_errno("fork", "job");
		return 127;
	}
	if (!pid) {
		in = open("/dev/null", O_RDONLY);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		execl("/bin/sh", "sh", RESULTS "/job.sh", (char *)NULL);
		_exit(127);
	}
	/* As PID 1, reap the job's orphans too, until the job itself ends */
	while ((done = wait(&status)) != pid)
		if (done < 0 && errno != EINTR)
			return 127;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(void)
{
	static const char ready[] = "gcma-vm: init ready\n";
	int job, status, fd;
	char buf[16];

	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("TERM", "dumb", 1);
	setenv("LANG", "C.UTF-8", 1);

	do_mount("proc", "/proc", "proc", 0, NULL);
	do_mount("sysfs", "/sys", "sysfs", 0, NULL);
	if (!mounted("/dev"))
		do_mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	do_mount("tmpfs", "/run", "tmpfs", 0, "mode=755");

	writable("/tmp", "1777");
	writable("/root", "700");
	writable("/var/tmp", "1777");
	writable("/mnt", "755");
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	/* Trace events, where the kernel has them */
	if (!access("/sys/kernel/tracing", F_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	make_dirs("/dev/pts", 0755);
	make_dirs("/dev/shm", 0755);
	do_mount("devpts", "/dev/pts", "devpts", 0, NULL);
	do_mount("tmpfs", "/dev/shm", "tmpfs", 0, "mode=1777");

	make_dirs(RESULTS, 0755);
	do_mount("gcma-results", RESULTS, "9p", 0,
		 "trans=virtio,version=9p2000.L,msize=524288");
	setenv("GCMA_RESULTS", RESULTS, 1);

	job = open_job_channel();
	if (job >= 0 && write(job, ready, sizeof(ready) - 1) < 0)
		warn_errno("write", "/dev/ttyS1");
	status = job >= 0 ? run_job(job) : 127;

	fd = open(RESULTS "/exit-status", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		snprintf(buf, sizeof(buf), "%d\n", status);
		if (write(fd, buf, strlen(buf)) < 0)
			warn_errno("write", RESULTS "/exit-status");
		close(fd);
	}
	sync();
	/* Power off; PID 1 must not exit meanwhile, or the kernel panics */
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd < 0 || write(fd, "o", 1) < 0)
		warn_errno("power off through", "/proc/sysrq-trigger");
	for (;;)
		pause();
}
