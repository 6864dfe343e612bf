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
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
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

int main(int argc, char **argv)
{
	long forks = 0, vforks = 0, threads = 0, cow = 0, vfork_sleep = 0, barrier = 0, waiting = 0, i;
	int hold = 0;
	long page = sysconf(_SC_PAGESIZE);
	int opt;

	while ((opt = getopt(argc, argv, "f:v:t:c:V:B:HW:")) != -1) {
		switch (opt) {
		case 'f': forks = atol(optarg); break;
		case 'v': vforks = atol(optarg); break;
		case 't': threads = atol(optarg); break;
		case 'c': cow = atol(optarg); break;
		case 'V': vfork_sleep = atol(optarg); break;
		case 'B': barrier = atol(optarg); break;
		case 'H': hold = 1; break;
		case 'W': waiting = atol(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-f N] [-v N] [-t N] [-c PAGES] [-V SECONDS] [-B N [-H]] [-W N]\n",
				argv[0]);
			return 2;
		}
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
	printf("clone_workload: %ld forks, %ld vforks, %ld threads, %ld COW pages\n",
	       forks, vforks, threads, cow);
	return 0;
}
