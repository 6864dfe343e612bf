// SPDX-License-Identifier: GPL-2.0
/* HAVE_KCA_USER_WORKER: struct kernel_clone_args has user_worker. */
#include <linux/sched/task.h>

int clonestat_feature(struct kernel_clone_args *args);
int clonestat_feature(struct kernel_clone_args *args)
{
	return args->user_worker;
}
