// SPDX-License-Identifier: GPL-2.0
/* HAVE_TP_SWITCH_PREV_STATE: sched_switch passes prev_state (5.18 on). */
#include <trace/events/sched.h>

static void probe(void *data, bool preempt, struct task_struct *prev,
		  struct task_struct *next, unsigned int prev_state)
{
}

int clonestat_feature(void);
int clonestat_feature(void)
{
	return register_trace_sched_switch(probe, NULL);
}
