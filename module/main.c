// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat: what creating tasks costs on this machine.
 *
 * A kretprobe on kernel_clone() counts every clone, fork and vfork the
 * kernel is asked for, and the result of each, in per-CPU counters.
 * /proc/clonestat shows the sums.
 *
 * Probe context rules: no lock, no allocation, no printk.  Each CPU only
 * increments its own counters (the kprobe handlers run with preemption
 * disabled); the reader sums all CPUs without stopping the writers, so a
 * sum taken while clones happen is approximate.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

#define CLONESTAT_FORMAT_VERSION	1

static char clone_symbol[KSYM_NAME_LEN] = "kernel_clone";
module_param_string(clone_symbol, clone_symbol, sizeof(clone_symbol), 0444);
MODULE_PARM_DESC(clone_symbol, "Function probed for clone calls (default kernel_clone)");

/* Per-CPU counters: written only by their own CPU, summed by the reader. */
struct clonestat_cpu {
	unsigned long calls;		/* kernel_clone entries seen */
	unsigned long calls_kthread;	/* ... of which made by a kernel thread */
	unsigned long ok;		/* returned a pid */
	unsigned long failed;		/* returned an error */
};

static struct clonestat_cpu __percpu *clonestat_cpu;

static int clone_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	this_cpu_inc(clonestat_cpu->calls);
	if (current->flags & PF_KTHREAD)
		this_cpu_inc(clonestat_cpu->calls_kthread);
	return 0;
}

static int clone_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	/* kernel_clone() returns pid_t: only the low 32 bits of the register. */
	pid_t ret = (pid_t)regs_return_value(regs);

	if (ret < 0)
		this_cpu_inc(clonestat_cpu->failed);
	else
		this_cpu_inc(clonestat_cpu->ok);
	return 0;
}

static struct kretprobe clone_probe = {
	.entry_handler	= clone_entry,
	.handler	= clone_return,
	/*
	 * One instance per task inside kernel_clone(); a vfork parent holds
	 * its instance until the child execs or exits.
	 */
	.maxactive	= 1024,
};

static void clonestat_sum(struct clonestat_cpu *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct clonestat_cpu *c = per_cpu_ptr(clonestat_cpu, cpu);

		sum->calls += READ_ONCE(c->calls);
		sum->calls_kthread += READ_ONCE(c->calls_kthread);
		sum->ok += READ_ONCE(c->ok);
		sum->failed += READ_ONCE(c->failed);
	}
}

static int clonestat_show(struct seq_file *m, void *v)
{
	struct clonestat_cpu sum;

	clonestat_sum(&sum);
	seq_printf(m, "clonestat version %d\n", CLONESTAT_FORMAT_VERSION);
	seq_puts(m, "# per-CPU sums, approximate while clones run\n");
	seq_printf(m, "calls %lu\n", sum.calls);
	seq_printf(m, "calls_user %lu\n", sum.calls - sum.calls_kthread);
	seq_printf(m, "calls_kthread %lu\n", sum.calls_kthread);
	seq_printf(m, "ok %lu\n", sum.ok);
	seq_printf(m, "failed %lu\n", sum.failed);
	seq_printf(m, "missed %d\n", READ_ONCE(clone_probe.nmissed));
	return 0;
}

static int clonestat_open(struct inode *inode, struct file *file)
{
	return single_open(file, clonestat_show, NULL);
}

static const struct proc_ops clonestat_proc_ops = {
	.proc_open	= clonestat_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
};

static struct proc_dir_entry *clonestat_proc;

static int __init clonestat_init(void)
{
	int ret;

	clonestat_cpu = alloc_percpu(struct clonestat_cpu);
	if (!clonestat_cpu)
		return -ENOMEM;

	clone_probe.kp.symbol_name = clone_symbol;
	ret = register_kretprobe(&clone_probe);
	if (ret < 0) {
		pr_err("cannot probe %s: error %d\n", clone_symbol, ret);
		goto out_free_cpu;
	}

	clonestat_proc = proc_create("clonestat", 0400, NULL, &clonestat_proc_ops);
	if (!clonestat_proc) {
		ret = -ENOMEM;
		goto out_unregister;
	}
	return 0;

out_unregister:
	unregister_kretprobe(&clone_probe);
out_free_cpu:
	free_percpu(clonestat_cpu);
	return ret;
}

static void __exit clonestat_exit(void)
{
	/* Readers first, then writers, then what both use. */
	proc_remove(clonestat_proc);
	unregister_kretprobe(&clone_probe);
	if (clone_probe.nmissed)
		pr_info("%d clone calls missed (maxactive %d)\n",
			clone_probe.nmissed, clone_probe.maxactive);
	free_percpu(clonestat_cpu);
}

module_init(clonestat_init);
module_exit(clonestat_exit);
MODULE_DESCRIPTION("Clone, fork and vfork cost accounting");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
