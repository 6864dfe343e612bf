/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clonestat hooks: a handler run on entry to a kernel function, given the
 * function's first argument.
 *
 * Where ftrace passes a traced function's arguments to its callbacks
 * (x86 from 5.11, CONFIG_DYNAMIC_FTRACE_WITH_ARGS), a hook is a function
 * in the filter of clonestat's one ftrace_ops: called straight from the
 * fentry trampoline, with no breakpoint, kprobe lookup or full register
 * save.  Elsewhere, or when ftrace refuses the function,
 * it is a kprobe (wp_page_reuse() is inline, hence notrace, on 6.1: a
 * kprobe there).  Handlers run with preemption disabled either way.
 */
#ifndef _CLONESTAT_HOOK_H
#define _CLONESTAT_HOOK_H

#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>

enum cs_hook_how { CS_HOOK_OFF, CS_HOOK_FTRACE, CS_HOOK_KPROBE };

/*
 * CS_HOOK("symbol", handler): calls void handler(unsigned long arg0) on
 * entry to symbol, once registered.
 */
struct cs_hook {
	void (*handler)(unsigned long arg0);
	struct kprobe kp;		/* kp.symbol_name: the function */
	unsigned long ip;		/* its ftrace location, for ftrace */
	enum cs_hook_how how;
};

#define CS_HOOK(symbol, fn) {						\
	.handler	= (fn),						\
	.kp.symbol_name	= (symbol),					\
}

struct seq_file;
int cs_hook_register(struct cs_hook *h);
void cs_hook_unregister(struct cs_hook *h);
void cs_hook_show(struct seq_file *m, const struct cs_hook *h);

#endif /* _CLONESTAT_HOOK_H */
