// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of /proc/clonestat against workloads this program controls.
 * Run as root with clonestat loaded (clonestat.sh does both).
 *
 * Exactness: the harness forks each TEST into its own child before the
 * test body runs, so the forks a test counts are its own.  Kernel threads
 * may be created at any time (kthreadd, workqueues); clonestat counts the
 * calls made by kernel threads apart ("calls_kthread"), so "calls_user" is
 * exact as long as no other user process forks.  In the test VM the only
 * other user process is the init shell, which waits for us.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define PROC_PATH "/proc/clonestat"

struct snap {
	unsigned long calls, calls_user, calls_kthread, ok, failed, missed;
	unsigned long processes;	/* /proc/stat, the kernel's own count */
};

/* Value of a "name value" line of a file, or -1 when absent. */
static long long file_value(const char *path, const char *name)
{
	char line[512];
	size_t len = strlen(name);
	long long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) && line[len] == ' ') {
			val = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

static int read_clonestat(struct snap *s)
{
	static const char *const names[] = {
		"calls", "calls_user", "calls_kthread", "ok", "failed", "missed",
	};
	unsigned long *fields[] = {
		&s->calls, &s->calls_user, &s->calls_kthread, &s->ok,
		&s->failed, &s->missed,
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		long long v = file_value(PROC_PATH, names[i]);

		if (v < 0)
			return -1;
		*fields[i] = v;
	}
	return 0;
}

/*
 * A snapshot of clonestat and /proc/stat that belong together: no clone
 * started or finished between the two reads of clonestat, and none was in
 * flight (every call seen has returned).
 */
static int snapshot(struct snap *s)
{
	struct snap again;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		long long p;

		if (read_clonestat(s))
			return -1;
		p = file_value("/proc/stat", "processes");
		if (p < 0 || read_clonestat(&again))
			return -1;
		s->processes = p;
		if (again.calls == s->calls && again.ok == s->ok &&
		    s->calls == s->ok + s->failed)
			return 0;
		usleep(1000);
	}
	return -1;
}

static void *thread_fn(void *arg)
{
	return arg;
}

TEST(version_line)
{
	char line[128] = "";
	FILE *f = fopen(PROC_PATH, "r");

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	fclose(f);
	EXPECT_STREQ("clonestat version 1\n", line);
}

TEST(fork_and_thread_counts_are_exact)
{
	const int nforks = 50, nthreads = 30;
	struct snap before, after;
	int i;

	ASSERT_EQ(0, snapshot(&before));
	for (i = 0; i < nforks; i++) {
		pid_t pid = fork();
		int status;

		ASSERT_GE(pid, 0);
		if (pid == 0)
			_exit(0);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	}
	for (i = 0; i < nthreads; i++) {
		pthread_t t;

		ASSERT_EQ(0, pthread_create(&t, NULL, thread_fn, NULL));
		ASSERT_EQ(0, pthread_join(t, NULL));
	}
	ASSERT_EQ(0, snapshot(&after));

	TH_LOG("calls +%lu (user +%lu, kthread +%lu), /proc/stat processes +%lu",
	       after.calls - before.calls, after.calls_user - before.calls_user,
	       after.calls_kthread - before.calls_kthread,
	       after.processes - before.processes);
	EXPECT_EQ(nforks + nthreads, after.calls_user - before.calls_user);
	EXPECT_EQ(0, after.failed - before.failed);
	EXPECT_EQ(0, after.missed - before.missed);
	/* Independent source: every task the kernel created, kthreads too. */
	EXPECT_EQ(after.processes - before.processes, after.ok - before.ok);
	EXPECT_EQ(after.calls - before.calls,
		  after.calls_user - before.calls_user +
		  after.calls_kthread - before.calls_kthread);
}

TEST(failed_clone_is_counted)
{
	struct snap before, after;
	pid_t pid;

	ASSERT_EQ(0, snapshot(&before));
	/* CLONE_SIGHAND without CLONE_VM: kernel_clone() returns -EINVAL. */
	pid = syscall(__NR_clone, CLONE_SIGHAND, 0, NULL, NULL, 0);
	ASSERT_EQ(-1, pid);
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, snapshot(&after));
	EXPECT_EQ(1, after.calls_user - before.calls_user);
	EXPECT_EQ(1, after.failed - before.failed);
	EXPECT_EQ(after.processes - before.processes, after.ok - before.ok);
}

TEST_HARNESS_MAIN
