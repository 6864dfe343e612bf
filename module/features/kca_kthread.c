// SPDX-License-Identifier: GPL-2.0
/* HAVE_KCA_KTHREAD: struct kernel_clone_args has kthread. */
#include <linux/sched/task.h>

int clonestat_feature(struct kernel_clone_args *args);
int clonestat_feature(struct kernel_clone_args *args)
{
	return args->kthread;
}
