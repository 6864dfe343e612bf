// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat tracepoints: the kernel's own, attached by name.
 *
 * A tracepoint costs a few tens of instructions a hit where a kprobe
 * costs several hundred (`make bench`), so where a tracepoint marks the
 * moment a probe would, clonestat uses the tracepoint.  Modules cannot
 * link to most tracepoints, so they are found by name with
 * for_each_kernel_tracepoint() and attached with
 * tracepoint_probe_register().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/string.h>
#include <linux/tracepoint.h>

#include "clonestat.h"

struct cs_tp_lookup {
	const char *name;
	struct tracepoint *tp;
};

static void cs_tp_match(struct tracepoint *tp, void *priv)
{
	struct cs_tp_lookup *l = priv;

	if (!strcmp(tp->name, l->name))
		l->tp = tp;
}

/* Attach probe to the tracepoint called name; *tpp remembers it. */
int cs_tp_register(const char *name, void *probe, struct tracepoint **tpp)
{
	struct cs_tp_lookup l = { .name = name };
	int ret;

	for_each_kernel_tracepoint(cs_tp_match, &l);
	if (!l.tp) {
		pr_err("no tracepoint %s in this kernel\n", name);
		return -ENOENT;
	}
	ret = tracepoint_probe_register(l.tp, probe, NULL);
	if (ret) {
		pr_err("cannot attach to tracepoint %s: error %d\n", name, ret);
		return ret;
	}
	*tpp = l.tp;
	return 0;
}

/* Detach probe; callers wait with tracepoint_synchronize_unregister(). */
void cs_tp_unregister(struct tracepoint **tpp, void *probe)
{
	if (*tpp)
		tracepoint_probe_unregister(*tpp, probe, NULL);
	*tpp = NULL;
}
