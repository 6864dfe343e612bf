// SPDX-License-Identifier: GPL-2.0
/* HAVE_FEATURE_CHECKS: always builds, so that a broken check shows. */
#include <linux/sched/task.h>

int clonestat_feature(void);
int clonestat_feature(void)
{
	return 0;
}
