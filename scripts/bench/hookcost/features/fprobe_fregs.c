// SPDX-License-Identifier: GPL-2.0
/* fprobe handlers take struct ftrace_regs (6.14 and later). */
#include <linux/fprobe.h>

static int entry(struct fprobe *fp, unsigned long ip, unsigned long ret_ip,
		 struct ftrace_regs *regs, void *data)
{
	return 0;
}

struct fprobe fp = { .entry_handler = entry };
