// SPDX-License-Identifier: GPL-2.0
/*
 * clone_bench: time one kind of task creation, N times in a row, and
 * print the CPU nanoseconds per operation, the children's included.
 * Under QEMU's -icount shift=0,sleep=off a guest nanosecond is one guest
 * instruction.
 *
 *   clone_bench fork N     fork(), the child _exit()s, waitpid()
 *   clone_bench vfork N    vfork(), the child _exit()s
 *   clone_bench thread N   pthread_create() + pthread_join()
 *   clone_bench cow N      the parent has touched 8 MiB; fork(), the
 *                          child writes every page of it, _exit()s
 *   clone_bench anon N     map 8 MiB, write every page (a new anonymous
 *                          page each, no COW), unmap: the faults that
 *                          6.12's and 7.2's copy marker sees and passes
 *   clone_bench procs N    N processes that each fork once (N rows in the
 *                          per-task table)
 *   clone_bench read N     read /proc/clonestat whole, N times
 *   clone_bench rename N   prctl(PR_SET_NAME): the path scripts/bench/
 *                          hookcost hooks, to time a hook by itself
 *
 * Output: "WORKLOAD N NS_PER_OP ELAPSED_NS_PER_OP": CPU time as below,
 * then elapsed time (every task's instructions, idle jumps included).
 *
 * With CLONE_BENCH_PROC=FILE, it writes "reset" to /proc/clonestat just
 * before the timed loop and copies /proc/clonestat to FILE just after:
 * clonestat's counters then hold the loop's work and nothing else (not
 * the shell's fork that started the bench, nor a reader's).
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COW_BYTES	(8UL << 20)

/* Every task's work, and under icount the clock's jumps over idle periods. */
static unsigned long long elapsed_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * CPU time of this process (all its threads, living or gone) and of its
 * reaped children: the work of an operation wherever it ran, and nothing
 * else.  Elapsed time would add other tasks' work and, under icount with
 * sleep=off, the jumps of the clock over idle periods: outliers of 20 %
 * and more between rounds.
 */
static unsigned long long now_ns(void)
{
	struct timespec ts;
	struct rusage ru;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	getrusage(RUSAGE_CHILDREN, &ru);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec +
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

static void reap(pid_t pid)
{
	int status;

	if (pid < 0)
		err(1, "fork");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		errx(1, "child %d failed", pid);
}

static void *thread_fn(void *arg)
{
	return arg;
}

static void one_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	reap(pid);
}

static void one_vfork(void)
{
	pid_t pid = vfork();

	if (pid == 0)
		_exit(0);
	reap(pid);
}

static void one_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, thread_fn, NULL) || pthread_join(t, NULL))
		errx(1, "pthread_create failed");
}

static char *cow_buf;
static long page;

static void one_cow(void)
{
	pid_t pid = fork();
	unsigned long i;

	if (pid == 0) {
		for (i = 0; i < COW_BYTES; i += page)
			cow_buf[i]++;
		_exit(0);
	}
	reap(pid);
}

static void one_anon(void)
{
	char *buf = mmap(NULL, COW_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long i;

	if (buf == MAP_FAILED)
		err(1, "mmap");
	madvise(buf, COW_BYTES, MADV_NOHUGEPAGE);
	for (i = 0; i < COW_BYTES; i += page)
		buf[i] = 1;
	munmap(buf, COW_BYTES);
}

static char read_buf[1 << 20];

/* Write word to /proc/clonestat. */
static void proc_write(const char *word)
{
	int fd = open("/proc/clonestat", O_WRONLY);

	if (fd < 0 || write(fd, word, strlen(word)) != (ssize_t)strlen(word))
		err(1, "writing %s to /proc/clonestat", word);
	close(fd);
}

/* Copy /proc/clonestat to path. */
static void proc_save(const char *path)
{
	int in = open("/proc/clonestat", O_RDONLY);
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (in < 0 || out < 0)
		err(1, "copying /proc/clonestat to %s", path);
	while ((n = read(in, read_buf, sizeof(read_buf))) > 0)
		if (write(out, read_buf, n) != n)
			err(1, "%s", path);
	close(in);
	close(out);
}

static void one_read(void)
{
	int fd = open("/proc/clonestat", O_RDONLY);

	if (fd < 0)
		err(1, "/proc/clonestat");
	while (read(fd, read_buf, sizeof(read_buf)) > 0)
		;
	close(fd);
}

static void one_rename(void)
{
	if (prctl(PR_SET_NAME, "clone_bench"))
		err(1, "prctl");
}

/* n processes that each fork once: n rows in the per-task table. */
static void procs(long n)
{
	long i;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			one_fork();
			_exit(0);
		}
		reap(pid);
	}
}

int main(int argc, char **argv)
{
	void (*op)(void) = NULL;
	const char *save = getenv("CLONE_BENCH_PROC");
	unsigned long long t0, t1, e0, e1;
	long n, i;

	if (argc != 3 || (n = atol(argv[2])) <= 0)
		errx(2, "usage: clone_bench fork|vfork|thread|cow|anon|procs|read|rename N");
	page = sysconf(_SC_PAGESIZE);
	if (!strcmp(argv[1], "fork")) {
		op = one_fork;
	} else if (!strcmp(argv[1], "vfork")) {
		op = one_vfork;
	} else if (!strcmp(argv[1], "thread")) {
		op = one_thread;
	} else if (!strcmp(argv[1], "read")) {
		op = one_read;
	} else if (!strcmp(argv[1], "anon")) {
		op = one_anon;
	} else if (!strcmp(argv[1], "rename")) {
		op = one_rename;
	} else if (!strcmp(argv[1], "cow")) {
		cow_buf = mmap(NULL, COW_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (cow_buf == MAP_FAILED)
			err(1, "mmap");
		madvise(cow_buf, COW_BYTES, MADV_NOHUGEPAGE);
		memset(cow_buf, 1, COW_BYTES);
		op = one_cow;
	} else if (strcmp(argv[1], "procs")) {
		errx(2, "unknown workload %s", argv[1]);
	}

	if (save)
		proc_write("reset");
	e0 = elapsed_ns();
	t0 = now_ns();
	if (op)
		for (i = 0; i < n; i++)
			op();
	else
		procs(n);
	t1 = now_ns();
	e1 = elapsed_ns();
	if (save)
		proc_save(save);
	printf("%s %ld %llu %llu\n", argv[1], n, (t1 - t0) / n, (e1 - e0) / n);
	return 0;
}
