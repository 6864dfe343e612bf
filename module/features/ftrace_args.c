// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_FTRACE_ARGS: ftrace callbacks receive the traced function's
 * arguments in struct ftrace_regs (5.11 on, x86 with
 * CONFIG_DYNAMIC_FTRACE_WITH_ARGS).
 */
#include <linux/ftrace.h>

#ifndef CONFIG_DYNAMIC_FTRACE_WITH_ARGS
#error "ftrace callbacks get no arguments here"
#endif

static void clonestat_feature_func(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_ops *op, struct ftrace_regs *fregs)
{
}

struct ftrace_ops clonestat_feature_ops = {
	.func	= clonestat_feature_func,
};
