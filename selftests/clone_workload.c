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
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <pthread.h>
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
static void vfork_barrier(long n)
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
	close(go[1]);		/* all N in flight: let them go */
	for (i = 0; i < n; i++) {
		int status;

		if (wait(&status) < 0)
			err(1, "wait");
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			errx(1, "a vfork process failed");
	}
}

int main(int argc, char **argv)
{
	long forks = 0, vforks = 0, threads = 0, cow = 0, vfork_sleep = 0, barrier = 0, i;
	long page = sysconf(_SC_PAGESIZE);
	int opt;

	while ((opt = getopt(argc, argv, "f:v:t:c:V:B:")) != -1) {
		switch (opt) {
		case 'f': forks = atol(optarg); break;
		case 'v': vforks = atol(optarg); break;
		case 't': threads = atol(optarg); break;
		case 'c': cow = atol(optarg); break;
		case 'V': vfork_sleep = atol(optarg); break;
		case 'B': barrier = atol(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-f N] [-v N] [-t N] [-c PAGES] [-V SECONDS] [-B N]\n",
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
		vfork_barrier(barrier);
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
	printf("clone_workload: %ld forks, %ld vforks, %ld threads, %ld COW pages\n",
	       forks, vforks, threads, cow);
	return 0;
}
