// SPDX-License-Identifier: GPL-2.0
/*
 * hookcost: what one kind of hook costs by itself, for `make bench`.
 *
 * Loaded with mech=NAME, it attaches that kind of hook, with handlers
 * that do nothing, to __set_task_comm() (prctl(PR_SET_NAME) calls it) or,
 * for a tracepoint, to task_rename, which that function fires.  The
 * bench times N prctl() calls with the module loaded and without: under
 * QEMU's -icount shift=0,sleep=off the difference over N is the hook's
 * machinery in guest instructions, the part of clonestat's cost that
 * its handlers' own timing (self.*.avg_ns) cannot see.
 *
 *   kprobe      a kprobe with a pre-handler at the function's entry, where
 *               it rides on ftrace (FTRACE in kprobes/list)
 *   kprobe-body the same one instruction further, past the ftrace call:
 *               a breakpoint, or a jump once the kprobe optimizer has
 *               rewritten it (OPTIMIZED; debug.kprobes-optimization=0
 *               keeps the breakpoint), as on a function ftrace cannot
 *               trace
 *   clock-mono  the kprobe, its handler reading ktime_get_mono_fast_ns(),
 *   clock-local ... or local_clock(),
 *   clock-tsc   ... or the TSC (rdtsc_ordered(), x86): less the kprobe,
 *               what the clock costs (clonestat's handlers read the
 *               first or the last, its `clock` counter says which)
 *   kretprobe   a kretprobe: entry and return handlers, 64 bytes of data
 *   ftrace      an ftrace_ops callback reading the first argument, as
 *               clonestat's hooks do (module/hook.c)
 *   tracepoint  a probe on the task_rename tracepoint
 *   fprobe      an fprobe with entry and exit handlers, 64 bytes of data
 *               (6.12, 7.2: where the kernel has CONFIG_FPROBE and the
 *               handlers of features/; on the function graph tracer from
 *               6.14, on rethook before)
 *
 * Not part of clonestat: the bench builds it against the kernel it boots.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fprobe.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/sched/clock.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#ifdef CONFIG_X86_TSC
#include <asm/tsc.h>
#endif

static char *mech = "kprobe";
module_param(mech, charp, 0444);
MODULE_PARM_DESC(mech,
		 "kprobe, kprobe-body, clock-mono, clock-local, clock-tsc, kretprobe, ftrace, tracepoint or fprobe");

#define HC_SYMBOL	"__set_task_comm"
#define HC_TP_NAME	"task_rename"

/* Where the handlers write, so that they are not empty to the compiler. */
static unsigned long hc_sink;

static int hc_pre(struct kprobe *kp, struct pt_regs *regs)
{
	WRITE_ONCE(hc_sink, regs_get_kernel_argument(regs, 0));
	return 0;
}

static int hc_pre_mono(struct kprobe *kp, struct pt_regs *regs)
{
	WRITE_ONCE(hc_sink, ktime_get_mono_fast_ns());
	return 0;
}

static int hc_pre_local(struct kprobe *kp, struct pt_regs *regs)
{
	WRITE_ONCE(hc_sink, local_clock());
	return 0;
}

#ifdef CONFIG_X86_TSC
static int hc_pre_tsc(struct kprobe *kp, struct pt_regs *regs)
{
	WRITE_ONCE(hc_sink, rdtsc_ordered());
	return 0;
}
#endif

static int hc_ret_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	*(unsigned long *)ri->data = regs_get_kernel_argument(regs, 0);
	return 0;
}

static int hc_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	WRITE_ONCE(hc_sink, *(unsigned long *)ri->data);
	return 0;
}

static struct kprobe hc_kp = {
	.symbol_name	= HC_SYMBOL,
	.pre_handler	= hc_pre,
};

static struct kretprobe hc_rp = {
	.kp.symbol_name	= HC_SYMBOL,
	.entry_handler	= hc_ret_entry,
	.handler	= hc_ret,
	.data_size	= 64,
};

static void notrace hc_ftrace_func(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	preempt_disable_notrace();
#ifdef ftrace_regs_get_argument
	WRITE_ONCE(hc_sink, ftrace_regs_get_argument(fregs, 0));
#else
	WRITE_ONCE(hc_sink, regs_get_kernel_argument(&fregs->regs, 0));
#endif
	preempt_enable_notrace();
}

static struct ftrace_ops hc_ops = {
	.func	= hc_ftrace_func,
};

static void hc_tp_probe(void *data, struct task_struct *task, const char *comm)
{
	WRITE_ONCE(hc_sink, (unsigned long)task);
}

static struct tracepoint *hc_tp;

static void hc_tp_find(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, HC_TP_NAME))
		hc_tp = tp;
}

/*
 * The address of the instruction after the function's ftrace call: a
 * kprobe on the function resolves to that call (past an IBT endbr64).
 */
static kprobe_opcode_t *hc_body_addr(void)
{
	struct kprobe kp = {
		.symbol_name	= HC_SYMBOL,
		.flags		= KPROBE_FLAG_DISABLED,
	};
	kprobe_opcode_t *addr;

	if (register_kprobe(&kp))
		return NULL;
	addr = (void *)kp.addr + MCOUNT_INSN_SIZE;
	unregister_kprobe(&kp);
	return addr;
}

/* The fprobe handlers' registers argument: features/ says which (Kbuild). */
#if defined(HAVE_FPROBE_FREGS)
#define HC_FP_REGS_ARG	struct ftrace_regs *regs
#elif defined(HAVE_FPROBE_PTREGS)
#define HC_FP_REGS_ARG	struct pt_regs *regs
#endif

#ifdef HC_FP_REGS_ARG

static int hc_fp_entry(struct fprobe *fp, unsigned long ip, unsigned long ret_ip,
		       HC_FP_REGS_ARG, void *data)
{
	*(unsigned long *)data = ip;
	return 0;
}

static void hc_fp_exit(struct fprobe *fp, unsigned long ip, unsigned long ret_ip,
		       HC_FP_REGS_ARG, void *data)
{
	WRITE_ONCE(hc_sink, *(unsigned long *)data);
}

static struct fprobe hc_fp = {
	.entry_handler	= hc_fp_entry,
	.exit_handler	= hc_fp_exit,
	.entry_data_size = 64,
};
#endif

static enum { HC_KPROBE, HC_KRETPROBE, HC_FTRACE, HC_TRACEPOINT, HC_FPROBE } hc_mech;

static int __init hookcost_init(void)
{
	int ret;

	if (!strcmp(mech, "kprobe")) {
		hc_mech = HC_KPROBE;
		ret = register_kprobe(&hc_kp);
	} else if (!strcmp(mech, "clock-mono") || !strcmp(mech, "clock-local")) {
		hc_mech = HC_KPROBE;
		hc_kp.pre_handler = mech[6] == 'm' ? hc_pre_mono : hc_pre_local;
		ret = register_kprobe(&hc_kp);
#ifdef CONFIG_X86_TSC
	} else if (!strcmp(mech, "clock-tsc")) {
		hc_mech = HC_KPROBE;
		hc_kp.pre_handler = hc_pre_tsc;
		ret = register_kprobe(&hc_kp);
#endif
	} else if (!strcmp(mech, "kprobe-body")) {
		hc_mech = HC_KPROBE;
		hc_kp.symbol_name = NULL;
		hc_kp.addr = hc_body_addr();
		ret = hc_kp.addr ? register_kprobe(&hc_kp) : -ENOENT;
	} else if (!strcmp(mech, "kretprobe")) {
		hc_mech = HC_KRETPROBE;
		ret = register_kretprobe(&hc_rp);
	} else if (!strcmp(mech, "ftrace")) {
		hc_mech = HC_FTRACE;
		ret = ftrace_set_filter(&hc_ops, HC_SYMBOL, strlen(HC_SYMBOL), 1);
		if (!ret)
			ret = register_ftrace_function(&hc_ops);
		if (ret)
			ftrace_free_filter(&hc_ops);
	} else if (!strcmp(mech, "tracepoint")) {
		hc_mech = HC_TRACEPOINT;
		for_each_kernel_tracepoint(hc_tp_find, NULL);
		ret = hc_tp ? tracepoint_probe_register(hc_tp, hc_tp_probe, NULL) : -ENOENT;
#ifdef HC_FP_REGS_ARG
	} else if (!strcmp(mech, "fprobe")) {
		hc_mech = HC_FPROBE;
		ret = register_fprobe(&hc_fp, HC_SYMBOL, NULL);
#endif
	} else {
		pr_warn("unknown or unavailable mech=%s\n", mech);
		return -EINVAL;
	}
	if (ret)
		pr_warn("mech=%s on %s: error %d\n", mech, HC_SYMBOL, ret);
	return ret;
}

static void __exit hookcost_exit(void)
{
	switch (hc_mech) {
	case HC_KPROBE:
		unregister_kprobe(&hc_kp);
		break;
	case HC_KRETPROBE:
		unregister_kretprobe(&hc_rp);
		break;
	case HC_FTRACE:
		unregister_ftrace_function(&hc_ops);
		ftrace_free_filter(&hc_ops);
		break;
	case HC_TRACEPOINT:
		tracepoint_probe_unregister(hc_tp, hc_tp_probe, NULL);
		tracepoint_synchronize_unregister();
		break;
	case HC_FPROBE:
#ifdef HC_FP_REGS_ARG
		unregister_fprobe(&hc_fp);
#endif
		break;
	}
}

module_init(hookcost_init);
module_exit(hookcost_exit);
MODULE_DESCRIPTION("The cost of one kind of kernel hook, for clonestat's bench");
MODULE_LICENSE("GPL");
