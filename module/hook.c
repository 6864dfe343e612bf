// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat hooks: an ftrace callback where ftrace can give the function's
 * arguments, a kprobe otherwise (see hook.h).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/seq_file.h>

#include "compat.h"
#include "hook.h"

/*
 * cs_hooks[]: the hooks attached by ftrace, for the callback to find by
 * the traced function's address; written only at load and unload (module
 * init and exit, serialized by the module loader).
 */
#define CS_MAX_HOOKS	8
static struct cs_hook *cs_hooks[CS_MAX_HOOKS];

/* Unused where ftrace gives no arguments (compat.h). */
static void notrace __maybe_unused
cs_hook_ftrace_func(unsigned long ip, unsigned long parent_ip,
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
 * One ftrace_ops for every hook attached by ftrace, its filter their
 * functions: unregistering an ops from a module waits for an RCU-tasks
 * grace period (its trampoline may be in use), so only the last hook to
 * go unregisters it; one that goes while others stay leaves the filter,
 * and a normal grace period waits for the callbacks that saw it.
 *
 * Without FTRACE_OPS_FL_RECURSION: the callback is called straight from
 * the trampoline, with no ftrace recursion guard (the handlers call
 * nothing that is hooked; cs_enter() guards against nesting).
 *
 * NULL where ftrace gives no arguments: every hook is a kprobe.
 */
static struct ftrace_ops *const cs_ops = CS_FTRACE_OPS(cs_hook_ftrace_func);
static unsigned int cs_ops_ips;	/* functions in cs_ops's filter; registered if > 0 */

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
 * the function (no arguments from ftrace, not traceable, inlined,
 * missing), for the kprobe to try.
 */
static int cs_hook_ftrace(struct cs_hook *h)
{
	unsigned long addr;
	unsigned int i;
	int ret;

	if (!cs_ops)
		return -EOPNOTSUPP;
	addr = cs_hook_addr(h->kp.symbol_name);
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
		ret = ftrace_set_filter_ip(cs_ops, addr, 0, 0);
	} else {
		ret = ftrace_set_filter_ip(cs_ops, addr, 0, 1);
		if (!ret)
			ret = register_ftrace_function(cs_ops);
		if (ret)
			ftrace_free_filter(cs_ops);
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

	/* No hook attached by ftrace without cs_ops: the rest compiles away. */
	if (!cs_ops)
		return;
	if (cs_ops_ips == 1) {
		/* The last: an empty filter would trace every function. */
		unregister_ftrace_function(cs_ops);
		ftrace_free_filter(cs_ops);
	} else {
		ftrace_set_filter_ip(cs_ops, h->ip, 1, 0);
	}
	cs_ops_ips--;
	for (i = 0; i < CS_MAX_HOOKS; i++)
		if (cs_hooks[i] == h)
			WRITE_ONCE(cs_hooks[i], NULL);
	/* Callbacks run with preemption off: those that saw h are done. */
	if (cs_ops_ips)
		synchronize_rcu();
}

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

	ret = cs_hook_ftrace(h);
	if (!ret) {
		h->how = CS_HOOK_FTRACE;
		return 0;
	}
	if (ret == -ENOMEM)
		return ret;
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
	case CS_HOOK_FTRACE:
		cs_hook_ftrace_off(h);
		break;
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
