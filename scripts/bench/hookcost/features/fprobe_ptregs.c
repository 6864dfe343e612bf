// SPDX-License-Identifier: GPL-2.0
/* fprobe handlers take struct pt_regs, ret_ip and entry data (to 6.13). */
#include <linux/fprobe.h>

static int entry(struct fprobe *fp, unsigned long ip, unsigned long ret_ip,
		 struct pt_regs *regs, void *data)
{
	return 0;
}

struct fprobe fp = { .entry_handler = entry };
