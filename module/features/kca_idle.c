// SPDX-License-Identifier: GPL-2.0
/* HAVE_KCA_IDLE: struct kernel_clone_args has idle. */
#include <linux/sched/task.h>

int clonestat_feature(struct kernel_clone_args *args);
int clonestat_feature(struct kernel_clone_args *args)
{
	return args->idle;
}
