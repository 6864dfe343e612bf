// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat hooks: an ftrace callback where ftrace can give the function's
 * arguments, a kprobe otherwise (see hook.h).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/seq_file.h>

#include "hook.h"

#ifdef HAVE_FTRACE_ARGS
static __always_inline unsigned long cs_fregs_arg0(struct ftrace_regs *fregs)
{
#ifdef ftrace_regs_get_argument
	return ftrace_regs_get_argument(fregs, 0);
#else
	return regs_get_kernel_argument(&fregs->regs, 0);
#endif
}

static void notrace cs_hook_ftrace_func(unsigned long ip, unsigned long parent_ip,
					struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct cs_hook *h = container_of(ops, struct cs_hook, ops);

	preempt_disable_notrace();
	h->handler(cs_fregs_arg0(fregs));
	preempt_enable_notrace();
}

/*
 * The function's ftrace location: the address a kprobe on it resolves to
 * (past an IBT endbr64, where ftrace's call sits), found by a kprobe
 * registered disabled, never armed.  ftrace_set_filter() by name looks
 * up the name of every traceable function instead: with it, a load on
 * the debug kernel took 2.2-3.3 s against 1.5-2.4 s.
 */
static unsigned long cs_hook_addr(const char *symbol)
{
	struct kprobe kp = {
		.symbol_name	= symbol,
		.flags		= KPROBE_FLAG_DISABLED,
	};
	unsigned long addr;

	if (register_kprobe(&kp))
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return addr;
}

/*
 * 0 with the hook on; -ENOMEM; or another error when ftrace cannot trace
 * the function (not traceable, inlined, missing), for the kprobe to try.
 */
static int cs_hook_ftrace(struct cs_hook *h)
{
	unsigned long addr = cs_hook_addr(h->kp.symbol_name);
	int ret;

	if (!addr)
		return -ENOENT;
	/*
	 * Without FTRACE_OPS_FL_RECURSION: called straight from the
	 * trampoline, with no ftrace recursion guard (the handlers call
	 * nothing that is hooked; cs_enter() guards against nesting).
	 */
	h->ops.func = cs_hook_ftrace_func;
	/* Not an ftrace location (an inline function): -EINVAL or -ENOENT. */
	ret = ftrace_set_filter_ip(&h->ops, addr, 0, 1);
	if (!ret)
		ret = register_ftrace_function(&h->ops);
	if (ret)
		ftrace_free_filter(&h->ops);
	return ret;
}
#endif

static int cs_hook_kprobe_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct cs_hook *h = container_of(kp, struct cs_hook, kp);

	h->handler(regs_get_kernel_argument(regs, 0));
	return 0;
}

/*
 * 0 with the hook on, as an ftrace callback or a kprobe; else the error
 * of the kprobe (-ENOMEM from either).
 */
int cs_hook_register(struct cs_hook *h)
{
	int ret;

#ifdef HAVE_FTRACE_ARGS
	ret = cs_hook_ftrace(h);
	if (!ret) {
		h->how = CS_HOOK_FTRACE;
		return 0;
	}
	if (ret == -ENOMEM)
		return ret;
#endif
	h->kp.pre_handler = cs_hook_kprobe_pre;
	ret = register_kprobe(&h->kp);
	if (!ret)
		h->how = CS_HOOK_KPROBE;
	return ret;
}

/* When this returns, the handler runs nowhere any more. */
void cs_hook_unregister(struct cs_hook *h)
{
	switch (h->how) {
#ifdef HAVE_FTRACE_ARGS
	case CS_HOOK_FTRACE:
		unregister_ftrace_function(&h->ops);
		ftrace_free_filter(&h->ops);
		break;
#endif
	case CS_HOOK_KPROBE:
		unregister_kprobe(&h->kp);
		break;
	default:
		break;
	}
	h->how = CS_HOOK_OFF;
}

/* A comment line saying how a hook that is on is attached. */
void cs_hook_show(struct seq_file *m, const struct cs_hook *h)
{
	if (h->how != CS_HOOK_OFF)
		seq_printf(m, "# %s: %s\n", h->kp.symbol_name,
			   h->how == CS_HOOK_FTRACE ? "ftrace callback" : "kprobe");
}
