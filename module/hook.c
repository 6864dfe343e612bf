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

/*
 * One ftrace_ops for every hook attached by ftrace, its filter the hooks'
 * functions: unregistering an ops from a module waits for an RCU-tasks
 * grace period (its trampoline may be in use), which on a machine busy
 * forking took tens of seconds on the debug kernel, once for each ops.
 * Now once per load: a hook that goes while others stay leaves the
 * filter, and a grace period waits for the callbacks that saw it.
 *
 * cs_hooks[]: the hooks the callback may call, written only at load and
 * unload (module init and exit, serialized by the module loader).
 */
#define CS_MAX_HOOKS	8
static struct cs_hook *cs_hooks[CS_MAX_HOOKS];
static struct ftrace_ops cs_ops;
static unsigned int cs_ops_ips;	/* functions in cs_ops's filter; registered if > 0 */

static void notrace cs_hook_ftrace_func(unsigned long ip, unsigned long parent_ip,
					struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	unsigned int i;

	preempt_disable_notrace();
	for (i = 0; i < CS_MAX_HOOKS; i++) {
		struct cs_hook *h = READ_ONCE(cs_hooks[i]);

		if (h && h->ip == ip) {
			h->handler(cs_fregs_arg0(fregs));
			break;
		}
	}
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
	unsigned int i;
	int ret;

	if (!addr)
		return -ENOENT;
	for (i = 0; i < CS_MAX_HOOKS && cs_hooks[i]; i++)
		;
	if (i == CS_MAX_HOOKS)
		return -ENOSPC;
	/* Callable before its function enters the filter. */
	h->ip = addr;
	WRITE_ONCE(cs_hooks[i], h);
	if (cs_ops_ips) {
		/* Not an ftrace location (an inline function): -ENOENT. */
		ret = ftrace_set_filter_ip(&cs_ops, addr, 0, 0);
	} else {
		/*
		 * Without FTRACE_OPS_FL_RECURSION: called straight from
		 * the trampoline, with no ftrace recursion guard (the
		 * handlers call nothing that is hooked; cs_enter() guards
		 * against nesting).
		 */
		cs_ops.func = cs_hook_ftrace_func;
		ret = ftrace_set_filter_ip(&cs_ops, addr, 0, 1);
		if (!ret)
			ret = register_ftrace_function(&cs_ops);
		if (ret)
			ftrace_free_filter(&cs_ops);
	}
	if (ret) {
		/* Never in the filter: no callback can have called it. */
		WRITE_ONCE(cs_hooks[i], NULL);
		return ret;
	}
	cs_ops_ips++;
	return 0;
}

/* When this returns, h's handler runs nowhere any more. */
static void cs_hook_ftrace_off(struct cs_hook *h)
{
	unsigned int i;

	if (cs_ops_ips == 1) {
		/* The last: an empty filter would trace every function. */
		unregister_ftrace_function(&cs_ops);
		ftrace_free_filter(&cs_ops);
	} else {
		ftrace_set_filter_ip(&cs_ops, h->ip, 1, 0);
	}
	cs_ops_ips--;
	for (i = 0; i < CS_MAX_HOOKS; i++)
		if (cs_hooks[i] == h)
			WRITE_ONCE(cs_hooks[i], NULL);
	/* Callbacks run with preemption off: those that saw h are done. */
	if (cs_ops_ips)
		synchronize_rcu();
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
		cs_hook_ftrace_off(h);
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
