// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat hooks: an ftrace callback where ftrace can give the function's
 * arguments, a kprobe otherwise (see hook.h).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/seq_file.h>
#include <linux/string.h>

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
 * 0 with the hook on; -ENOMEM; or another error when ftrace cannot trace
 * the function (not traceable, inlined, missing), for the kprobe to try.
 */
static int cs_hook_ftrace(struct cs_hook *h)
{
	char name[KSYM_NAME_LEN];
	int ret;

	/* ftrace_set_filter() parses its buffer: give it a copy. */
	if (strscpy(name, h->kp.symbol_name, sizeof(name)) < 0)
		return -E2BIG;
	/*
	 * Without FTRACE_OPS_FL_RECURSION: called straight from the
	 * trampoline, with no ftrace recursion guard (the handlers call
	 * nothing that is hooked; cs_enter() guards against nesting).
	 */
	h->ops.func = cs_hook_ftrace_func;
	ret = ftrace_set_filter(&h->ops, name, strlen(name), 1);
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
