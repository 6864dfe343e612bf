// SPDX-License-Identifier: GPL-2.0
/* HAVE_KCA_IO_THREAD: struct kernel_clone_args has io_thread. */
#include <linux/sched/task.h>

int clonestat_feature(struct kernel_clone_args *args);
int clonestat_feature(struct kernel_clone_args *args)
{
	return args->io_thread;
}
