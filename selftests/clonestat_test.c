// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of /proc/clonestat against workloads this program controls.
 * Run as root with clonestat loaded (clonestat.sh does both).
 *
 * Exactness: the harness forks each TEST into its own child before the
 * test body runs, so the forks a test counts are its own, and its row in
 * the per-task table (its tgid) starts empty.  Machine-wide counters are
 * exact too because nothing else in the test VM creates user tasks: the
 * only other user process is the init shell, which waits for us.  Kernel
 * threads may be created at any time, so machine-wide checks leave the
 * kthread class out, and compare with /proc/stat only snapshots taken
 * while no creation was in flight (snapshot()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <liburing.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define PROC_PATH "/proc/clonestat"
#define MAX_KV 4096
#define NR_CLASSES 8

extern char **environ;

static const char *const class_names[NR_CLASSES] = {
	"fork", "vfork", "thread", "shared_vm", "namespace", "kthread",
	"worker", "other",
};

enum { C_FORK, C_VFORK, C_THREAD, C_SHARED_VM, C_NS, C_KTHREAD, C_WORKER, C_OTHER };

struct task_row {
	long tgid;
	char comm[32];
	long calls[NR_CLASSES];
	long long lat_sum, lat_max, cow_copies, cow_reuses;
};

/* A parsed read of /proc/clonestat. */
struct stats {
	int nkv;
	struct {
		char name[96];
		long long val;
	} kv[MAX_KV];
	char *text;
	long long processes;	/* /proc/stat: tasks the kernel created */
};

static long long file_value(const char *path, const char *name)
{
	char line[512];
	size_t len = strlen(name);
	long long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) && (line[len] == ' ' || line[len] == '\t')) {
			val = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

static char *slurp(const char *path)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0 || !buf)
		goto fail;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *p = realloc(buf, cap *= 2);

			if (!p)
				goto fail;
			buf = p;
		}
	}
	if (n < 0)
		goto fail;
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* Parse the "counters" section: one "name value" a line. */
static int stats_read(struct stats *s)
{
	char *p;

	free(s->text);
	s->nkv = 0;
	s->text = slurp(PROC_PATH);
	if (!s->text || strncmp(s->text, "clonestat version 1\n", 20))
		return -1;
	p = strstr(s->text, "\nsection counters\n");
	if (!p)
		return -1;
	p += strlen("\nsection counters\n");
	while (*p && strncmp(p, "section ", 8) && s->nkv < MAX_KV) {
		char *eol = strchr(p, '\n'), *sp;

		if (!eol)
			break;
		sp = memchr(p, ' ', eol - p);
		if (sp && *p != '#' && (size_t)(sp - p) < sizeof(s->kv[0].name)) {
			memcpy(s->kv[s->nkv].name, p, sp - p);
			s->kv[s->nkv].name[sp - p] = '\0';
			s->kv[s->nkv].val = strtoll(sp + 1, NULL, 10);
			s->nkv++;
		}
		p = eol + 1;
	}
	return 0;
}

static long long vlookup(const struct stats *s, long long absent,
			 const char *fmt, va_list ap)
{
	char name[96];
	int i;

	vsnprintf(name, sizeof(name), fmt, ap);
	for (i = 0; i < s->nkv; i++)
		if (!strcmp(s->kv[i].name, name))
			return s->kv[i].val;
	return absent;
}

/* A counter that is always printed: -1 when absent (a failed lookup). */
static long long get(const struct stats *s, const char *fmt, ...)
{
	long long v;
	va_list ap;

	va_start(ap, fmt);
	v = vlookup(s, -1, fmt, ap);
	va_end(ap);
	return v;
}

/* A counter printed only when non-zero (flags, errnos, buckets). */
static long long get0(const struct stats *s, const char *fmt, ...)
{
	long long v;
	va_list ap;

	va_start(ap, fmt);
	v = vlookup(s, 0, fmt, ap);
	va_end(ap);
	return v;
}

/* Sum of the counters whose names start with prefix. */
static long long sum_prefix(const struct stats *s, const char *prefix)
{
	long long sum = 0;
	int i;

	for (i = 0; i < s->nkv; i++)
		if (!strncmp(s->kv[i].name, prefix, strlen(prefix)))
			sum += s->kv[i].val;
	return sum;
}

/* The per-task row of tgid; 0 when found. */
static int task_row(const struct stats *s, long tgid, struct task_row *r)
{
	const char *p = strstr(s->text, "\nsection tasks\n");

	memset(r, 0, sizeof(*r));
	if (!p)
		return -1;
	p = strchr(p + 1, '\n') + 1;
	while (*p && *p != '\n' && strncmp(p, "section", 7)) {
		if (*p != '#' && strtol(p, NULL, 10) == tgid) {
			int n = sscanf(p, "%ld %31s %ld %ld %ld %ld %ld %ld %ld %ld %lld %lld %lld %lld",
				       &r->tgid, r->comm, &r->calls[0], &r->calls[1],
				       &r->calls[2], &r->calls[3], &r->calls[4],
				       &r->calls[5], &r->calls[6], &r->calls[7],
				       &r->lat_sum, &r->lat_max, &r->cow_copies,
				       &r->cow_reuses);
			return n == 14 ? 0 : -1;
		}
		p = strchr(p, '\n') + 1;
	}
	return -1;
}

/* 0 when the worst list has a row for child pid made by tgid. */
static int worst_row(const struct stats *s, long pid, long tgid,
		     const char *comm, const char *class)
{
	const char *p = strstr(s->text, "\nsection worst\n");
	unsigned long long lat, copy, mm, rest;
	char c[32], k[32];
	long rp, rt;

	if (!p)
		return -1;
	p = strchr(p + 1, '\n') + 1;
	while (*p && *p != '\n' && strncmp(p, "section", 7)) {
		if (*p != '#' &&
		    sscanf(p, "%llu %llu %llu %llu %ld %ld %31s %31s", &lat, &copy,
			   &mm, &rest, &rp, &rt, c, k) == 8 &&
		    rp == pid && rt == tgid && !strcmp(c, comm) && !strcmp(k, class))
			return 0;
		p = strchr(p, '\n') + 1;
	}
	return -1;
}

static int in_flight(const struct stats *s)
{
	return get(s, "calls") != get(s, "ok") + get(s, "failed");
}

/*
 * A read of clonestat with /proc/stat's count taken between two reads
 * that agree, with no clone in flight: the two belong together.
 */
static struct stats *snapshot(void)
{
	struct stats *s = calloc(1, sizeof(*s)), *again = calloc(1, sizeof(*again));
	int tries;

	for (tries = 0; s && again && tries < 1000; tries++) {
		if (stats_read(s))
			break;
		s->processes = file_value("/proc/stat", "processes");
		if (stats_read(again))
			break;
		if (!in_flight(s) && get(s, "calls") == get(again, "calls") &&
		    get(s, "direct") == get(again, "direct") &&
		    get(s, "ok") == get(again, "ok")) {
			free(again->text);
			free(again);
			return s;
		}
		usleep(1000);
	}
	if (again)
		free(again->text);
	free(again);
	if (s)
		free(s->text);
	free(s);
	return NULL;
}

static void stats_free(struct stats *s)
{
	if (s)
		free(s->text);
	free(s);
}

#define D(a, b, ...) (get(b, __VA_ARGS__) - get(a, __VA_ARGS__))
#define D0(a, b, ...) (get0(b, __VA_ARGS__) - get0(a, __VA_ARGS__))

static pid_t sys_clone3(struct clone_args *args)
{
	return syscall(__NR_clone3, args, sizeof(*args));
}

/* clone3() with flags, the child exits at once; the parent reaps it. */
static int clone3_and_reap(unsigned long long flags, int *pidfd)
{
	struct clone_args args = {
		.flags = flags,
		.exit_signal = SIGCHLD,
		.pidfd = (unsigned long)pidfd,
	};
	pid_t pid = sys_clone3(&args);
	int status;

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -errno;
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return 0;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static int fork_and_reap(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(0);
	return pid > 0 && waitpid(pid, &status, 0) == pid ? 0 : -1;
}

/* nforks forks and nthreads threads, one at a time; 0 when all worked. */
static int forks_and_threads(int nforks, int nthreads)
{
	pthread_t t;
	int i;

	for (i = 0; i < nforks; i++)
		if (fork_and_reap())
			return -1;
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&t, NULL, thread_fn, NULL) || pthread_join(t, NULL))
			return -1;
	return 0;
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

/* The file says which probe times the mm copy and how COW is followed. */
TEST(methods_are_reported)
{
	struct stats *s = snapshot();
	char mm[64] = "", cow[128] = "";
	const char *p;

	ASSERT_NE(NULL, s);
	p = strstr(s->text, "\nmm_copy_probe ");
	ASSERT_NE(NULL, p);
	sscanf(p, "\nmm_copy_probe %63s", mm);
	p = strstr(s->text, "\ncow.method ");
	ASSERT_NE(NULL, p);
	sscanf(p, "\ncow.method %127s", cow);
	TH_LOG("mm phase: %s; COW: %s", mm, cow);
	EXPECT_NE(0, mm[0]);
	EXPECT_NE(0, cow[0]);
	stats_free(s);
}

TEST(fork_and_thread_counts_are_exact)
{
	const int nforks = 50, nthreads = 30;
	struct stats *a, *b;

	ASSERT_NE(NULL, a = snapshot());
	ASSERT_EQ(0, forks_and_threads(nforks, nthreads));
	ASSERT_NE(NULL, b = snapshot());

	TH_LOG("calls +%lld (user +%lld, kthread +%lld), /proc/stat processes +%lld",
	       D(a, b, "calls"), D(a, b, "calls_user"), D(a, b, "calls_kthread"),
	       b->processes - a->processes);
	EXPECT_EQ(nforks + nthreads, D(a, b, "calls_user"));
	EXPECT_EQ(0, D(a, b, "failed"));
	EXPECT_EQ(0, D(a, b, "missed.kernel_clone"));
	/* Independent source: every task the kernel created, kthreads too. */
	EXPECT_EQ(b->processes - a->processes, D(a, b, "ok") + D(a, b, "direct"));
	stats_free(a);
	stats_free(b);
}

/*
 * Every way glibc and clone3() create tasks lands in its class and sets
 * its flag bits, in this process's own row.
 */
TEST(classes_and_flags_are_exact)
{
	const int n = 12;
	char *const argv[] = { "true", NULL };
	struct stats *a, *b;
	struct task_row ra, rb;
	int i, status, pidfd;
	long tgid = getpid();

	ASSERT_NE(NULL, a = snapshot());
	for (i = 0; i < n; i++) {
		pid_t pid;
		pthread_t t;

		ASSERT_EQ(0, fork_and_reap());
		pid = vfork();
		if (pid == 0)
			_exit(0);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_EQ(0, pthread_create(&t, NULL, thread_fn, NULL));
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(0, posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_EQ(0, clone3_and_reap(CLONE_NEWUTS, NULL));
		ASSERT_EQ(0, clone3_and_reap(CLONE_PIDFD, &pidfd));
		close(pidfd);
		ASSERT_EQ(0, clone3_and_reap(CLONE_CLEAR_SIGHAND, NULL));
	}
	ASSERT_NE(NULL, b = snapshot());

	/* This process's row (its COW faults may have made it earlier). */
	task_row(a, tgid, &ra);
	ASSERT_EQ(0, task_row(b, tgid, &rb));
	EXPECT_STREQ("clonestat_test", rb.comm);
	for (i = 0; i < NR_CLASSES; i++)
		rb.calls[i] -= ra.calls[i];
	EXPECT_EQ(3 * n, rb.calls[C_FORK]);	/* fork, PIDFD, CLEAR_SIGHAND */
	EXPECT_EQ(2 * n, rb.calls[C_VFORK]);	/* vfork, posix_spawn */
	EXPECT_EQ(n, rb.calls[C_THREAD]);
	EXPECT_EQ(n, rb.calls[C_NS]);
	EXPECT_EQ(0, rb.calls[C_SHARED_VM] + rb.calls[C_KTHREAD] +
		     rb.calls[C_WORKER] + rb.calls[C_OTHER]);

	/* Machine-wide: the same, nothing else creates user tasks. */
	EXPECT_EQ(3 * n, D(a, b, "class.fork.calls"));
	EXPECT_EQ(2 * n, D(a, b, "class.vfork.calls"));
	EXPECT_EQ(n, D(a, b, "class.thread.calls"));
	EXPECT_EQ(n, D(a, b, "class.namespace.calls"));
	EXPECT_EQ(0, D(a, b, "class.shared_vm.calls"));
	EXPECT_EQ(0, D(a, b, "class.other.calls"));
	EXPECT_EQ(0, D(a, b, "failed"));

	EXPECT_EQ(2 * n, D0(a, b, "flag.CLONE_VFORK"));
	EXPECT_EQ(3 * n, D0(a, b, "flag.CLONE_VM"));	/* vfork, spawn, thread */
	EXPECT_EQ(n, D0(a, b, "flag.CLONE_THREAD"));
	EXPECT_EQ(n, D0(a, b, "flag.CLONE_NEWUTS"));
	EXPECT_EQ(n, D0(a, b, "flag.CLONE_PIDFD"));
	EXPECT_EQ(n, D0(a, b, "flag.CLONE_CLEAR_SIGHAND"));
	/* Threads exit with no signal; nothing else here uses another. */
	EXPECT_EQ(n, D0(a, b, "exit_signal.0"));
	EXPECT_EQ(b->processes - a->processes, D(a, b, "ok") + D(a, b, "direct"));
	stats_free(a);
	stats_free(b);
}

TEST(failures_are_counted_by_errno)
{
	struct stats *a, *b;
	pid_t helper;
	int status;

	ASSERT_NE(NULL, a = snapshot());
	/* Passes clone3's own checks, fails in copy_process(): EINVAL. */
	ASSERT_EQ(-EINVAL, clone3_and_reap(CLONE_SIGHAND, NULL));

	/* An unprivileged user over RLIMIT_NPROC: EAGAIN. */
	helper = fork();
	ASSERT_GE(helper, 0);
	if (helper == 0) {
		struct rlimit rl = { 0, 0 };
		pid_t pid;

		if (setrlimit(RLIMIT_NPROC, &rl) || setgroups(0, NULL) ||
		    setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		pid = fork();
		if (pid == 0)
			_exit(0);
		_exit(pid < 0 && errno == EAGAIN ? 0 : 11);
	}
	ASSERT_EQ(helper, waitpid(helper, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_NE(NULL, b = snapshot());

	EXPECT_EQ(1, D0(a, b, "errno.EINVAL"));
	EXPECT_EQ(1, D0(a, b, "errno.EAGAIN"));
	EXPECT_EQ(2, D(a, b, "failed"));
	EXPECT_EQ(2, D(a, b, "class.fork.failed"));
	EXPECT_EQ(3, D(a, b, "class.fork.calls"));	/* with the helper */
	EXPECT_EQ(b->processes - a->processes, D(a, b, "ok") + D(a, b, "direct"));
	stats_free(a);
	stats_free(b);
}

/* Each class's latency histogram counts exactly its calls. */
TEST(histograms_count_every_call)
{
	struct stats *s;
	char prefix[64];
	int i;

	ASSERT_EQ(0, fork_and_reap());
	ASSERT_NE(NULL, s = snapshot());
	for (i = 0; i < NR_CLASSES; i++) {
		const char *c = class_names[i];

		snprintf(prefix, sizeof(prefix), "hist.latency.%s.", c);
		EXPECT_EQ(get(s, "class.%s.calls", c), sum_prefix(s, prefix)) {
			TH_LOG("class %s", c);
		}
		/*
		 * Nothing is created in 0 ns: a zero is a clock that went back
		 * between the CPUs a creation ran on (copy_process() sleeps).
		 */
		EXPECT_EQ(0, get0(s, "hist.latency.%s.0", c)) {
			TH_LOG("class %s", c);
		}
		/* Each class's phases add up to its latency. */
		EXPECT_EQ(get(s, "class.%s.lat_sum_ns", c),
			  get(s, "class.%s.copy_ns", c) + get(s, "class.%s.mm_ns", c) +
			  get(s, "class.%s.rest_ns", c)) {
			TH_LOG("class %s", c);
		}
	}
	stats_free(s);
}

/* The parent's wait for a vfork child is not the vfork's cost. */
TEST(vfork_blocked_time_is_apart)
{
	const long long sleep_ns = 200000000;
	struct timespec ts = { 0, sleep_ns };
	struct stats *a, *b;
	int status;
	pid_t pid;

	ASSERT_NE(NULL, a = snapshot());
	pid = vfork();
	if (pid == 0) {
		syscall(SYS_nanosleep, &ts, NULL);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_NE(NULL, b = snapshot());

	TH_LOG("vfork latency %lld ns, blocked %lld ns",
	       D(a, b, "class.vfork.lat_sum_ns"), D(a, b, "vfork_blocked_sum_ns"));
	EXPECT_EQ(1, D(a, b, "class.vfork.calls"));
	EXPECT_GE(D(a, b, "vfork_blocked_sum_ns"), sleep_ns);
	EXPECT_LT(D(a, b, "class.vfork.lat_sum_ns"), sleep_ns / 10);
	stats_free(a);
	stats_free(b);
}

static long long vm_size_kib(void)
{
	return file_value("/proc/self/status", "VmSize:");
}

/* The parent_size bucket of a size: [2^(b-1), 2^b) KiB. */
static long long size_bucket(long long kib)
{
	long long lo = 1;

	while (lo * 2 <= kib)
		lo *= 2;
	return lo;
}

static long long fork_in_bucket(int nforks, long long *bucket_lo, long long *lat_sum)
{
	struct stats *a, *b;
	int i;

	a = snapshot();
	/* After snapshot(): its buffers are part of the size. */
	*bucket_lo = size_bucket(vm_size_kib());
	for (i = 0; i < nforks; i++)
		if (fork_and_reap())
			break;
	b = snapshot();
	if (!a || !b || i != nforks)
		return -1;
	*lat_sum = D0(a, b, "size.%lld.lat_sum_ns", *bucket_lo);
	i = D0(a, b, "size.%lld.forks", *bucket_lo);
	stats_free(a);
	stats_free(b);
	return i;
}

/* Copying a big parent's page tables makes its forks slower. */
TEST(fork_cost_grows_with_parent_size)
{
	const size_t small = 1 << 20, big = 256 << 20;
	const int nforks = 5;
	long long lo_small, lo_big, lat_small, lat_big;
	char *p;

	p = mmap(NULL, small, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, small);
	ASSERT_EQ(nforks, fork_in_bucket(nforks, &lo_small, &lat_small));

	p = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* 4 KiB page tables; EINVAL: no THP (PREEMPT_RT), 4 KiB anyway. */
	ASSERT_TRUE(!madvise(p, big, MADV_NOHUGEPAGE) || errno == EINVAL);
	memset(p, 1, big);
	ASSERT_EQ(nforks, fork_in_bucket(nforks, &lo_big, &lat_big));

	TH_LOG("parent %lld+ KiB: %lld ns a fork; %lld+ KiB: %lld ns a fork",
	       lo_small, lat_small / nforks, lo_big, lat_big / nforks);
	EXPECT_GT(lo_big, lo_small);
	EXPECT_GT(lat_big, 2 * lat_small);
}

/* A harness fixture only for its timeout: 20,000 forks take a while. */
FIXTURE(slow) {
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

/*
 * 10,000 processes that each fork: the table stays in its bound.
 * CLONESTAT_TEST_PROCS changes the number (the debug kernel, where a fork
 * costs 15 ms, runs fewer: still several times the table's capacity).
 */
TEST_F_TIMEOUT(slow, task_table_is_bounded, 600)
{
	const char *env = getenv("CLONESTAT_TEST_PROCS");
	const int nprocs = env ? atoi(env) : 10000;
	struct stats *a, *b;
	long long capacity;
	int i, status;

	ASSERT_NE(NULL, a = snapshot());
	for (i = 0; i < nprocs; i++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0)
			_exit(fork_and_reap() ? 1 : 0);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_EQ(0, status);
	}
	ASSERT_NE(NULL, b = snapshot());

	capacity = get(b, "tasks.capacity");
	TH_LOG("capacity %lld, rows %lld, inserts +%lld, evictions +%lld",
	       capacity, get(b, "tasks.rows"), D(a, b, "tasks.inserts"),
	       D(a, b, "tasks.evictions"));
	EXPECT_LE(get(b, "tasks.rows"), capacity);
	EXPECT_LE(get(b, "tasks.entries"), capacity);
	/* Every child made a row of its own; all but capacity were evicted. */
	EXPECT_GE(D(a, b, "tasks.inserts"), nprocs);
	EXPECT_GE(D(a, b, "tasks.evictions"), nprocs - capacity);
	/* Nothing is lost silently: entries = inserts - evictions. */
	EXPECT_EQ(get(b, "tasks.entries"),
		  get(b, "tasks.inserts") - get(b, "tasks.evictions"));
	EXPECT_EQ(2 * nprocs, D(a, b, "class.fork.calls"));
	stats_free(a);
	stats_free(b);
}

/* The slowest fork shows in the worst list, with its context. */
TEST(worst_list_names_the_slowest)
{
	const size_t big = 256 << 20;
	struct stats *s;
	char *p = mmap(NULL, big, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t pid;
	int status;

	ASSERT_NE(MAP_FAILED, p);
	madvise(p, big, MADV_NOHUGEPAGE);
	memset(p, 1, big);
	pid = fork();
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_NE(NULL, s = snapshot());
	EXPECT_EQ(0, worst_row(s, pid, getpid(), "clonestat_test", "fork"))
		TH_LOG("no worst-list row for child %d", pid);
	stats_free(s);
}

/* io_uring workers are made by copy_process() without kernel_clone(). */
TEST(io_uring_workers_are_counted)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct stats *a, *b;
	struct task_row r;
	int ret, workers = 0;
	char path[300], comm[32];
	struct dirent *de;
	DIR *dir;
	FILE *f;

	ret = io_uring_queue_init(8, &ring, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "this kernel has no io_uring (%s)", strerror(-ret));
	ASSERT_EQ(0, ret);
	ASSERT_NE(NULL, a = snapshot());
	/* IOSQE_ASYNC: the request goes to an io-wq worker. */
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	io_uring_cqe_seen(&ring, cqe);
	ASSERT_NE(NULL, b = snapshot());

	/* Independent count: the iou-wrk threads now in this process. */
	dir = opendir("/proc/self/task");
	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "iou-wrk-", 8))
			workers++;
		fclose(f);
	}
	closedir(dir);
	TH_LOG("worker class +%lld, direct +%lld, iou-wrk threads %d",
	       D(a, b, "class.worker.calls"), D(a, b, "direct"), workers);
	EXPECT_GE(workers, 1);
	EXPECT_EQ(workers, D(a, b, "class.worker.calls"));
	EXPECT_EQ(workers, D(a, b, "direct"));
	ASSERT_EQ(0, task_row(b, getpid(), &r));
	EXPECT_EQ(workers, r.calls[C_WORKER]);
	EXPECT_EQ(b->processes - a->processes, D(a, b, "ok") + D(a, b, "direct"));
	io_uring_queue_exit(&ring);
	stats_free(a);
	stats_free(b);
}

/* Every child is timed from its wakeup to its first run, once. */
TEST(first_run_counts_every_child)
{
	const int nforks = 20, nthreads = 20;
	struct stats *a, *b;

	ASSERT_NE(NULL, a = snapshot());
	ASSERT_EQ(0, forks_and_threads(nforks, nthreads));
	ASSERT_NE(NULL, b = snapshot());
	TH_LOG("forks: %lld on the waking CPU, %lld elsewhere",
	       sum_prefix(b, "hist.first_run.fork.same_cpu.") -
	       sum_prefix(a, "hist.first_run.fork.same_cpu."),
	       sum_prefix(b, "hist.first_run.fork.other_cpu.") -
	       sum_prefix(a, "hist.first_run.fork.other_cpu."));
	EXPECT_EQ(nforks, sum_prefix(b, "hist.first_run.fork.") -
			  sum_prefix(a, "hist.first_run.fork."));
	EXPECT_EQ(nthreads, sum_prefix(b, "hist.first_run.thread.") -
			    sum_prefix(a, "hist.first_run.thread."));
	EXPECT_EQ(nforks, D(a, b, "class.fork.calls"));
	EXPECT_EQ(0, D(a, b, "drops.child"));
	stats_free(a);
	stats_free(b);
}

#define COW_PAGES	512
#define COW_WRITES	100

static char *cow_region(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, COW_PAGES * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* 4 KiB pages; EINVAL: no THP (PREEMPT_RT), 4 KiB anyway. */
	if (madvise(p, COW_PAGES * page, MADV_NOHUGEPAGE) && errno != EINVAL)
		return NULL;
	memset(p, 1, COW_PAGES * page);
	return p;
}

static void cow_write(char *p, int pages)
{
	long page = sysconf(_SC_PAGESIZE);
	int i;

	for (i = 0; i < pages; i++)
		p[i * page] = 2;
}

static int cow_available(const struct stats *s)
{
	return s && !strstr(s->text, "\ncow.method none\n");
}

/*
 * One fork's COW bill.  A page that both the parent and the child write
 * after the fork (the stack, libc's data) is copied once, by whichever
 * writes it first, and reused by the other: which one is a race.  So the
 * bill's total (child + parent copies) is exact, and each side's share
 * of it is not; the pages only one side writes are that side's copies.
 */
struct cow_bill {
	long long forks, child, parent, bucket_forks;
};

/*
 * Fork a child that writes child_writes of the parent's pages and exits
 * (or execs /bin/true), while the parent writes parent_writes of them;
 * the child lives until the parent is done.  The deltas of the fork
 * class's bills.
 */
static int cow_round(char *p, int child_writes, int parent_writes, int exec,
		     struct cow_bill *bill)
{
	char *const argv[] = { "true", NULL };
	struct stats *a, *b;
	int fds[2], status;
	long long lo = 1;
	char c = 0;
	pid_t pid;

	if (pipe(fds))
		return -1;
	a = snapshot();
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		cow_write(p + parent_writes * sysconf(_SC_PAGESIZE), child_writes);
		if (exec)
			execv("/bin/true", argv);
		_exit(0);
	}
	cow_write(p, parent_writes);
	if (pid < 0 || write(fds[1], &c, 1) != 1 ||
	    waitpid(pid, &status, 0) != pid || status)
		return -1;
	close(fds[0]);
	close(fds[1]);
	b = snapshot();
	if (!a || !b)
		return -1;
	bill->forks = D(a, b, "bill.fork.forks");
	bill->child = D(a, b, "bill.fork.child_copies");
	bill->parent = D(a, b, "bill.fork.parent_copies");
	while (lo * 2 <= bill->child)
		lo *= 2;
	bill->bucket_forks = D0(a, b, "hist.cow_pages_per_fork.fork.%lld", lo);
	stats_free(a);
	stats_free(b);
	return 0;
}

/*
 * The kernel may copy a page that both sides write twice, not once: a
 * transient extra reference (a per-CPU LRU batch holds one) makes the
 * second writer copy too.  So a round can bill one or two copies more
 * than the pages; the least of three rounds is one without that race.
 */
#define COW_ROUNDS	3

static void cow_bill_test(struct __test_metadata *_metadata, int child_writes,
			  int parent_writes, int exec)
{
	struct cow_bill control, bill;
	long long min_control = -1, min_bill = -1;
	struct stats *s = snapshot();
	char *p = cow_region();
	int i;

	if (!cow_available(s))
		SKIP(return, "no COW method on this kernel (see section cow)");
	ASSERT_NE(NULL, p);
	for (i = 0; i < COW_ROUNDS; i++) {
		ASSERT_EQ(0, cow_round(p, 0, 0, exec, &control));
		ASSERT_EQ(0, cow_round(p, child_writes, parent_writes, exec, &bill));
		TH_LOG("control: child %lld + parent %lld copies; writing %d + %d: child %lld + parent %lld",
		       control.child, control.parent, child_writes, parent_writes,
		       bill.child, bill.parent);
		EXPECT_EQ(1, control.forks);
		EXPECT_EQ(1, bill.forks);
		EXPECT_GE(bill.child, child_writes);
		EXPECT_GE(bill.parent, parent_writes);
		/* The per-fork histogram gained this fork, in its bucket. */
		EXPECT_EQ(1, bill.bucket_forks);
		if (min_control < 0 || control.child + control.parent < min_control)
			min_control = control.child + control.parent;
		if (min_bill < 0 || bill.child + bill.parent < min_bill)
			min_bill = bill.child + bill.parent;
	}
	EXPECT_EQ(min_control + child_writes + parent_writes, min_bill);
	stats_free(s);
}

/* The child's writes are billed to its fork. */
TEST(cow_child_copies_are_billed)
{
	cow_bill_test(_metadata, COW_WRITES, 0, 0);
}

/* A child that writes and then execs closes its bill at the exec. */
TEST(cow_bill_closes_at_exec)
{
	cow_bill_test(_metadata, COW_WRITES, 0, 1);
}

/* The parent's writes while the child lives are billed to that fork. */
TEST(cow_parent_copies_are_billed)
{
	cow_bill_test(_metadata, 0, COW_WRITES, 0);
}

/* Once the child is gone, the parent's pages are its own: reuses. */
TEST(cow_after_child_exit_reuses)
{
	struct task_row ra, rb;
	struct stats *a, *b;
	char *p = cow_region();

	ASSERT_NE(NULL, a = snapshot());
	if (!cow_available(a))
		SKIP(return, "no COW method on this kernel (see section cow)");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fork_and_reap());
	stats_free(a);
	ASSERT_NE(NULL, a = snapshot());
	cow_write(p, COW_WRITES);
	ASSERT_NE(NULL, b = snapshot());
	ASSERT_EQ(0, task_row(a, getpid(), &ra));
	ASSERT_EQ(0, task_row(b, getpid(), &rb));
	TH_LOG("copies +%lld, reuses +%lld", rb.cow_copies - ra.cow_copies,
	       rb.cow_reuses - ra.cow_reuses);
	EXPECT_EQ(0, rb.cow_copies - ra.cow_copies);
	EXPECT_GE(rb.cow_reuses - ra.cow_reuses, COW_WRITES);
	stats_free(a);
	stats_free(b);
}

TEST_HARNESS_MAIN
