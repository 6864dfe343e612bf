// SPDX-License-Identifier: GPL-2.0
/*
 * clone_workload: create tasks in known numbers, for the demo and for
 * checking clonestat by hand.
 *
 *   clone_workload [-f FORKS] [-v VFORKS] [-t THREADS] [-c COW_PAGES]
 *
 * -c: the parent touches COW_PAGES pages, forks once, and the child writes
 * every one of them before it exits (COW_PAGES copies in the child).
 * -V SECONDS: one vfork whose child sleeps that long before it exits (the
 * parent waits inside kernel_clone() meanwhile).
 * -B N: N forked processes each vfork once, and every vfork child waits
 * until all N are made: N parents inside kernel_clone() at once, however
 * slowly the machine starts them.
 * -H: with -B, print "held N" once all N vfork children run (so all N
 * parents are inside kernel_clone()), and let them go only when a line
 * or EOF arrives on standard input.
 * -W N: N forked children woken and never run: the parent and (by
 * inheritance) its children are SCHED_FIFO on the last CPU, so none runs
 * while the parent does.  It checks that each child's schedstat run count
 * is 0, prints "waiting N", and spins, never sleeping, until a line or
 * EOF arrives on standard input; then it reaps them.
 *
 * Options whose counts are exact to the page (params_test.sh):
 * -P: first print "ready PID" and wait for a line (or EOF) on standard
 * input, so that the caller can name this process in a filter before it
 * does anything.
 * -C PAGES: one fork whose child writes one byte in each of PAGES pages
 * of its parent's private memory, and writes no other private page:
 * exactly PAGES COW copies in the child.  (The child is made by clone()
 * with only SIGCHLD, so the kernel writes no tid into it, on a stack in
 * a shared mapping, and it runs no library code; the process runs
 * without rseq, which the kernel would update in the child's first
 * return to user space: it execs itself once with
 * GLIBC_TUNABLES=glibc.pthread.rseq=0.)  Prints "cow child PID".
 * -k N: with -C, N such children alive at once, each writing PAGES
 * pages of its own; they exit together once the N-th has written.
 * -T HUGEPAGES: HUGEPAGES transparent huge pages (MADV_HUGEPAGE, each
 * written once), checked in /proc/self/smaps (exit status 3 when the
 * kernel gave fewer); such a child writes one byte in each and exits
 * (each write: a huge-page COW fault, then one 4 KiB copy), then the
 * parent writes one byte in each.  With -P, it prints "child wrote"
 * between the two and waits for a line.  Ends with "thp N huge pages,
 * M still huge": how many the parent's writes left mapped whole.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdint.h>
#include <sys/mman.h>
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define HAVE_RSEQ_SIZE 1
#endif
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap(pid_t pid)
{
	int status;

	if (pid < 0)
		err(1, "fork");
	if (waitpid(pid, &status, 0) != pid)
		err(1, "waitpid");
}

static void *thread_fn(void *arg)
{
	return arg;
}

/*
 * One pipe to start the N processes' vforks at once (EOF), one on which
 * each vfork child reports itself, one whose EOF lets them all exit.
 */
static void wait_for_stdin(void)
{
	char c;

	if (read(0, &c, 1) < 0)
		err(1, "read stdin");
}

static void vfork_barrier(long n, int hold)
{
	int start[2], ready[2], go[2];
	long i, seen = 0;
	char c;

	if (pipe2(start, O_CLOEXEC) || pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		err(1, "pipe");
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			err(1, "fork");
		if (pid == 0) {
			close(start[1]);
			close(ready[0]);
			close(go[1]);
			if (read(start[0], &c, 1) != 0)
				_exit(1);
			pid = vfork();
			if (pid == 0) {
				/* Only system calls in a vfork child. */
				if (syscall(SYS_write, ready[1], "x", 1) != 1)
					_exit(1);
				syscall(SYS_read, go[0], &c, 1);
				_exit(0);
			}
			if (pid < 0)
				_exit(1);
			reap(pid);
			_exit(0);
		}
	}
	close(start[0]);
	close(ready[1]);
	close(go[0]);
	close(start[1]);	/* every process vforks now */
	while (seen < n) {
		ssize_t r = read(ready[0], &c, 1);

		if (r <= 0)
			errx(1, "%ld of %ld vfork children started", seen, n);
		seen++;
	}
	if (hold) {
		printf("held %ld\n", n);
		fflush(stdout);
		wait_for_stdin();
	}
	close(go[1]);		/* all N in flight: let them go */
	for (i = 0; i < n; i++) {
		int status;

		if (wait(&status) < 0)
			err(1, "wait");
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			errx(1, "a vfork process failed");
	}
}

/* How many times the task has been given a CPU: schedstat's third field. */
static long run_count(pid_t pid)
{
	unsigned long long runtime, delay, count;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	if (!f)
		err(1, "%s", path);
	n = fscanf(f, "%llu %llu %llu", &runtime, &delay, &count);
	fclose(f);
	if (n != 3)
		errx(1, "%s: unreadable", path);
	return (long)count;
}

static void never_ran(const pid_t *pids, long n)
{
	long i;

	for (i = 0; i < n; i++)
		if (run_count(pids[i]) != 0)
			errx(1, "child %ld of %ld ran before its parent let it", i + 1, n);
}

static void waiting_children(long n)
{
	struct sched_param sp = { .sched_priority = 1 };
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	long cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1, i;
	pid_t *pids = calloc(n, sizeof(*pids));
	cpu_set_t set;

	if (!pids)
		err(1, "calloc");
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		err(1, "sched_setaffinity");
	/* No page fault may put this task to sleep while its children wait. */
	run_count(getpid());
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		err(1, "mlockall");
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		err(1, "sched_setscheduler");
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			err(1, "fork");
		if (pids[i] == 0)
			_exit(0);
	}
	never_ran(pids, n);
	printf("waiting %ld\n", n);
	fflush(stdout);
	/* Spins: a same-priority FIFO child runs only once this task sleeps. */
	while (poll(&pfd, 1, 0) == 0)
		;
	never_ran(pids, n);
	printf("still waiting at the release\n");
	fflush(stdout);
	for (i = 0; i < n; i++)
		reap(pids[i]);
	free(pids);
}

/* A line (or EOF) on standard input. */
static void wait_for_line(void)
{
	ssize_t r;
	char c;

	do
		r = read(0, &c, 1);
	while (r == 1 && c != '\n');
	if (r < 0)
		err(1, "read stdin");
}

/*
 * Without rseq: the kernel writes a task's rseq area (in its thread's
 * private TLS) on its return to user space after a migration, which in
 * a forked child is one COW copy more than the child's own writes.
 * glibc registers rseq unless told not to: exec this program again, told.
 */
static void without_rseq(char **argv)
{
#ifdef HAVE_RSEQ_SIZE
	const char *tun = "glibc.pthread.rseq=0";
	char exe[4096], *env, *val;
	ssize_t n;

	if (!__rseq_size)
		return;
	env = getenv("GLIBC_TUNABLES");
	if (env && strstr(env, tun))
		errx(1, "rseq still registered with GLIBC_TUNABLES=%s", env);
	/* The real path: its name stays this program's comm. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		err(1, "readlink /proc/self/exe");
	exe[n] = '\0';
	if (env && *env) {
		if (asprintf(&val, "%s:%s", env, tun) < 0)
			errx(1, "asprintf");
	} else {
		val = (char *)tun;
	}
	if (setenv("GLIBC_TUNABLES", val, 1))
		err(1, "setenv");
	execv(exe, argv);
	err(1, "execv %s", exe);
#endif
}

/*
 * A child that writes only what it is told to: count bytes, stride
 * apart, from base.  With ready_fd >= 0 it then says so on ready_fd and
 * waits for EOF on go_fd (closing its own copy of go_wr first).  Raw
 * system calls, no library code: nothing but base's pages is written
 * outside its stack, which is in a shared mapping (no COW there).
 */
struct clean_child {
	volatile char *base;
	long stride;
	long count;
	int ready_fd;
	int go_fd;
	int go_wr;
};

#if defined(__x86_64__)
static inline long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;

	asm volatile ("syscall"
		      : "=a" (ret)
		      : "a" (nr), "D" (a), "S" (b), "d" (c)
		      : "rcx", "r11", "memory");
	return ret;
}
#else
/* Elsewhere through libc, whose syscall() the parent has called first. */
#define raw_syscall3(nr, a, b, c) syscall(nr, a, b, c)
#endif

static int clean_child_fn(void *arg)
{
	const struct clean_child *c = arg;
	char x;
	long i;

	for (i = 0; i < c->count; i++)
		c->base[i * c->stride] = 2;
	if (c->ready_fd >= 0) {
		raw_syscall3(SYS_close, c->go_wr, 0, 0);
		raw_syscall3(SYS_write, c->ready_fd, (long)"x", 1);
		raw_syscall3(SYS_read, c->go_fd, (long)&x, 1);
	}
	return 0;
}

#define CLEAN_STACK	(64 * 1024)

/*
 * n clean children (n > 1: alive at once, released together), child i
 * writing a[i]; prints "cow child PID" for each once it is reaped.
 */
static void clean_children(struct clean_child *a, long n)
{
	char *stacks = mmap(NULL, n * CLEAN_STACK, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 };
	pid_t *pids = calloc(n, sizeof(*pids));
	long i, seen = 0;
	char c;

	if (stacks == MAP_FAILED)
		err(1, "mmap stacks");
	if (!pids)
		err(1, "calloc");
	if (n > 1 && (pipe(ready) || pipe(go)))
		err(1, "pipe");
	syscall(SYS_getpid);	/* see raw_syscall3() */
	for (i = 0; i < n; i++) {
		a[i].ready_fd = ready[1];
		a[i].go_fd = go[0];
		a[i].go_wr = go[1];
	}
	for (i = 0; i < n; i++) {
		pids[i] = clone(clean_child_fn, stacks + (i + 1) * CLEAN_STACK, SIGCHLD, &a[i]);
		if (pids[i] < 0)
			err(1, "clone");
	}
	if (n > 1) {
		close(ready[1]);
		close(go[0]);
		while (seen < n) {
			ssize_t r = read(ready[0], &c, 1);

			if (r <= 0)
				errx(1, "%ld of %ld children wrote", seen, n);
			seen++;
		}
		close(go[1]);	/* all N alive and written: let them go */
		close(ready[0]);
	}
	for (i = 0; i < n; i++) {
		reap(pids[i]);
		printf("cow child %d\n", pids[i]);
	}
	fflush(stdout);
	munmap(stacks, n * CLEAN_STACK);
	free(pids);
}

/* -C PAGES -k N */
static void clean_cow(long pages, long n)
{
	long page = sysconf(_SC_PAGESIZE), i;
	size_t len = (size_t)pages * n * page;
	struct clean_child *a = calloc(n, sizeof(*a));
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		err(1, "mmap");
	if (!a)
		err(1, "calloc");
	/* 4 KiB pages; EINVAL: no THP, 4 KiB anyway. */
	if (madvise(buf, len, MADV_NOHUGEPAGE) && errno != EINVAL)
		err(1, "madvise MADV_NOHUGEPAGE");
	memset(buf, 1, len);
	for (i = 0; i < n; i++) {
		a[i].base = buf + i * pages * page;
		a[i].stride = page;
		a[i].count = pages;
	}
	clean_children(a, n);
	munmap(buf, len);
	free(a);
}

static long thp_size(void)
{
	const char *path = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size";
	FILE *f = fopen(path, "r");
	long v = 0;

	if (!f)
		err(1, "%s", path);
	if (fscanf(f, "%ld", &v) != 1 || v <= 0)
		errx(1, "%s: unreadable", path);
	fclose(f);
	return v;
}

/* AnonHugePages (kB) of the mapping that holds p, from /proc/self/smaps. */
static long anon_huge_kb(const void *p)
{
	unsigned long start, end, a = (unsigned long)p;
	char line[512];
	long kb = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		err(1, "/proc/self/smaps");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = start <= a && a < end;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	if (kb < 0)
		errx(1, "no AnonHugePages line for %p in /proc/self/smaps", p);
	return kb;
}

/* -T HUGEPAGES */
static void thp_cow(long n, int pause)
{
	long hp = thp_size(), j, kb;
	size_t len = (size_t)n * hp;
	char *raw = mmap(NULL, len + hp, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct clean_child a = { .stride = hp, .count = n };
	char *p;

	if (raw == MAP_FAILED)
		err(1, "mmap");
	/* Exactly the n aligned huge pages, in a mapping of their own. */
	p = (char *)(((uintptr_t)raw + hp - 1) & ~((uintptr_t)hp - 1));
	if (p > raw)
		munmap(raw, p - raw);
	if (raw + hp > p)
		munmap(p + len, raw + hp - p);
	if (madvise(p, len, MADV_HUGEPAGE))
		err(1, "madvise MADV_HUGEPAGE");
	for (j = 0; j < n; j++)
		p[j * hp] = 1;
	kb = anon_huge_kb(p);
	if (kb != (long)(len / 1024)) {
		fprintf(stderr, "clone_workload: %ld of %ld kB in huge pages (THP allocation failed?)\n",
			kb, (long)(len / 1024));
		exit(3);
	}
	a.base = p;
	clean_children(&a, 1);
	if (pause) {
		printf("child wrote\n");
		fflush(stdout);
		wait_for_line();
	}
	for (j = 0; j < n; j++)
		p[j * hp] = 3;
	kb = anon_huge_kb(p);
	printf("thp %ld huge pages, %ld still huge\n", n, kb / (hp / 1024));
	fflush(stdout);
	munmap(p, len);
}

int main(int argc, char **argv)
{
	long forks = 0, vforks = 0, threads = 0, cow = 0, vfork_sleep = 0, barrier = 0, waiting = 0, i;
	long clean = 0, clean_n = 1, thp = 0;
	int hold = 0, pause = 0;
	long page = sysconf(_SC_PAGESIZE);
	int opt;

	while ((opt = getopt(argc, argv, "f:v:t:c:V:B:HW:PC:k:T:")) != -1) {
		switch (opt) {
		case 'f': forks = atol(optarg); break;
		case 'v': vforks = atol(optarg); break;
		case 't': threads = atol(optarg); break;
		case 'c': cow = atol(optarg); break;
		case 'V': vfork_sleep = atol(optarg); break;
		case 'B': barrier = atol(optarg); break;
		case 'H': hold = 1; break;
		case 'W': waiting = atol(optarg); break;
		case 'P': pause = 1; break;
		case 'C': clean = atol(optarg); break;
		case 'k': clean_n = atol(optarg); break;
		case 'T': thp = atol(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-P] [-f N] [-v N] [-t N] [-c PAGES] [-V SECONDS] [-B N [-H]] [-W N] [-C PAGES [-k N]] [-T HUGEPAGES]\n",
				argv[0]);
			return 2;
		}
	}
	if (clean_n < 1)
		errx(2, "-k: at least 1");
	if (clean > 0 || thp > 0)
		without_rseq(argv);
	if (pause) {
		printf("ready %d\n", getpid());
		fflush(stdout);
		wait_for_line();
	}

	for (i = 0; i < forks; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		reap(pid);
	}
	for (i = 0; i < vforks; i++) {
		pid_t pid = vfork();

		if (pid == 0)
			_exit(0);
		reap(pid);
	}
	if (vfork_sleep > 0) {
		struct timespec ts = { vfork_sleep, 0 };
		pid_t pid = vfork();

		if (pid == 0) {
			/* Only system calls in a vfork child. */
			syscall(SYS_nanosleep, &ts, NULL);
			_exit(0);
		}
		reap(pid);
	}
	if (barrier > 0)
		vfork_barrier(barrier, hold);
	for (i = 0; i < threads; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, thread_fn, NULL))
			errx(1, "pthread_create failed");
		pthread_join(t, NULL);
	}
	if (cow > 0) {
		char *buf = mmap(NULL, cow * page, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pid_t pid;

		if (buf == MAP_FAILED)
			err(1, "mmap");
		madvise(buf, cow * page, MADV_NOHUGEPAGE);
		memset(buf, 1, cow * page);
		pid = fork();
		if (pid == 0) {
			for (i = 0; i < cow; i++)
				buf[i * page] = 2;
			_exit(0);
		}
		reap(pid);
	}
	if (waiting > 0)
		waiting_children(waiting);
	if (clean > 0)
		clean_cow(clean, clean_n);
	if (thp > 0)
		thp_cow(thp, pause);
	printf("clone_workload: %ld forks, %ld vforks, %ld threads, %ld COW pages\n",
	       forks, vforks, threads, cow);
	return 0;
}
