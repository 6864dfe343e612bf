// SPDX-License-Identifier: GPL-2.0
/*
 * fail_nth_load N MODULE.ko [PARAMS]: load MODULE with the N-th fault
 * point of finit_module() made to fail (/proc/self/fail-nth), and nothing
 * before it: no exec, no loader, no file reading in between.
 *
 * Prints "loaded", "failed ERRNO-NAME", each with "fired" or "unfired":
 * unfired means finit_module() had fewer than N fault points.
 * Exits 0 when loaded, 1 when the load failed, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char left[32] = "";
	int fd, nth, err;
	long ret;

	if (argc < 3) {
		fprintf(stderr, "usage: %s N MODULE.ko [PARAMS]\n", argv[0]);
		return 2;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	nth = open("/proc/self/fail-nth", O_RDWR | O_CLOEXEC);
	if (fd < 0 || nth < 0) {
		perror("open");
		return 2;
	}
	if (write(nth, argv[1], strlen(argv[1])) < 0) {
		perror("fail-nth");
		return 2;
	}
	ret = syscall(__NR_finit_module, fd, argc > 3 ? argv[3] : "", 0);
	err = errno;
	/* What is left of the count: 0 once the failure was injected. */
	if (pread(nth, left, sizeof(left) - 1, 0) < 0) {
		perror("fail-nth");
		return 2;
	}
	if (write(nth, "0", 1) < 0)
		return 2;
	if (ret == 0)
		printf("loaded %s\n", atoi(left) ? "unfired" : "fired");
	else
		printf("failed %s %s\n", strerrorname_np(err) ? strerrorname_np(err) : "?",
		       atoi(left) ? "unfired" : "fired");
	return ret == 0 ? 0 : 1;
}
