// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat: what creating tasks costs on this machine.
 *
 * Hooks on kernel_clone() and the points around it follow every fork,
 * vfork, thread and clone: its class and flags, its result, its latency
 * split into phases, the parent's size, the process that asked for it,
 * the child's first run, and the COW faults that the fork leaves behind.
 *
 *   main.c      parameters, load and unload in order
 *   probes.c    kernel_clone(), the mm copy, the wakeup, the first run
 *   cow.c       COW faults, and the bills that tie them to their fork
 *   hook.c      ftrace hooks (kprobes where ftrace cannot)
 *   tp.c        the kernel's tracepoints, attached by name
 *   stats.c     per-CPU buffers and the clock
 *   proc.c      /proc/clonestat: the buffers summed, merged and shown
 *   control.c   the words written to /proc/clonestat
 *   trace.h     clonestat's own trace events
 *   compat.h    kernel differences (features/: the checks behind them)
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/module.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

#include "clonestat.h"

module_param_named(task_slots, cs_task_slots, uint, 0444);
MODULE_PARM_DESC(task_slots,
		 "Per-task table entries per CPU (power of two, 16..65536; default 256)");
module_param_named(worst_slots, cs_worst_slots, uint, 0444);
MODULE_PARM_DESC(worst_slots,
		 "Slowest creations kept per CPU and shown (1..256; default 16)");

static unsigned int cs_self_sample = 6;
module_param_named(self_sample, cs_self_sample, uint, 0444);
MODULE_PARM_DESC(self_sample,
		 "Time one handler call in 2^N for self_cost (0..16; 0: every call; default 6)");
unsigned long cs_sample_mask __read_mostly;

int cs_read_gid = -1;
module_param_named(read_gid, cs_read_gid, int, 0444);
MODULE_PARM_DESC(read_gid,
		 "Group that may also read /proc/clonestat (default -1: root only)");

static bool __init cs_param_ok(const char *name, unsigned int val,
			       unsigned int lo, unsigned int hi, bool pow2)
{
	if (val >= lo && val <= hi && (!pow2 || is_power_of_2(val)))
		return true;
	pr_err("%s=%u: must be %s%u..%u\n", name, val,
	       pow2 ? "a power of two in " : "", lo, hi);
	return false;
}

static int __init clonestat_init(void)
{
	int ret;

	if (!cs_param_ok("task_slots", cs_task_slots, 16, 65536, true) ||
	    !cs_param_ok("worst_slots", cs_worst_slots, 1, 256, false) ||
	    !cs_param_ok("max_inflight", cs_max_inflight, 64, 65536, true) ||
	    !cs_param_ok("cow_bills", cs_cow_bills, 64, 1048576, true) ||
	    !cs_param_ok("self_sample", cs_self_sample, 0, 16, false))
		return -EINVAL;
	cs_sample_mask = (1UL << cs_self_sample) - 1;
	if (cs_read_gid < -1 ||
	    (cs_read_gid >= 0 && !gid_valid(make_kgid(&init_user_ns, cs_read_gid)))) {
		pr_err("read_gid=%d: must be -1 (root only) or a group id\n", cs_read_gid);
		return -EINVAL;
	}

	cs_clock_init();
	ret = cs_buffers_alloc();
	if (ret)
		return ret;
	/* COW first: the wakeup probe opens COW bills. */
	ret = cs_cow_register();
	if (ret)
		goto out_free_buffers;
	ret = cs_probes_register();
	if (ret)
		goto out_unregister_cow;
	/* Inside the creations the probes above follow. */
	if (cs_steps_param) {
		ret = cs_steps_set(true);
		if (ret)
			goto out_unregister_probes;
	}
	ret = cs_proc_create();
	if (ret)
		goto out_steps_off;
	return 0;

out_steps_off:
	cs_steps_set(false);
out_unregister_probes:
	cs_probes_unregister();
	cs_steps_free();
out_unregister_cow:
	cs_cow_unregister();
out_free_buffers:
	cs_buffers_free();
	return ret;
}

static void __exit clonestat_exit(void)
{
	/* Readers first, then writers, then what both use. */
	cs_proc_remove();
	cs_steps_set(false);
	cs_probes_unregister();
	cs_cow_unregister();
	cs_control_exit();
	cs_steps_free();
	cs_buffers_free();
}

module_init(clonestat_init);
module_exit(clonestat_exit);
MODULE_DESCRIPTION("Clone, fork and vfork cost accounting");
MODULE_LICENSE("GPL");
MODULE_VERSION(CLONESTAT_VERSION);
