// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat step timing: where a creation's copy phase goes, step by
 * step of copy_process().  Opt-in: the steps parameter at load, or the
 * "steps on" and "steps off" writes; off, nothing here is attached and
 * the other probes cost what they cost without it.
 *
 * Each step that is a function of its own on the running kernel is timed
 * by a kretprobe on it (step_fns[], from lists.h's CS_STEP_FN list: the
 * first of its names that registers).  Steps that are inlined everywhere
 * (dup_task_struct(), copy_sighand(), copy_signal(), copy_io()) have no
 * such function: "task" spans kernel_clone()'s entry to copy_creds()'s,
 * which is dup_task_struct() and copy_process()'s checks before it; the
 * others are in "uncovered".  The mm phase (probes.c) splits into the
 * copy_page_range() calls ("mm_page_tables") and the rest ("mm_vmas").
 *
 * A step's handlers add its time and one call to the creation's struct
 * cs_steps, beside its in-flight slot (cs_steps_table[], one entry a
 * slot, owned with the slot); kernel_clone()'s return hands them to the
 * per-CPU counters (cs_steps_record()).  A creation is timed by steps
 * only when step timing was on at its start and is still on, unchanged,
 * at its end (cs_steps_seq): one in flight while the steps are switched
 * counts as steps.partial.  Failed creations are not timed by steps.
 *
 * The table and the step histograms are allocated the first time step
 * timing goes on, before its first probe registers, and freed at unload,
 * after every probe is gone.  cs_steps_set() is serialized by the control
 * lock (control.c), or by module init and exit.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "clonestat.h"

bool cs_steps_param;
module_param_named(steps, cs_steps_param, bool, 0444);
MODULE_PARM_DESC(steps, "Time the steps of copy_process() from load (default off)");

/* Odd while step timing is on; moves on at each switch. */
static unsigned int cs_steps_seq;
static struct cs_steps *cs_steps_table;

struct cs_step_data {
	u64 start;
	struct cs_steps *st;
};

/*
 * On entry to a step's function: the creation it belongs to, and the
 * time.  Non-zero: no return handler (not a creation timed by steps).
 */
static __always_inline int step_entry(struct kretprobe_instance *ri, enum cs_step step)
{
	struct cs_step_data *d = (void *)ri->data;
	u64 start;

	if (!cs_enter(CS_P_STEP_ENTRY))
		return 1;
	d->st = cs_steps_current(&start);
	d->start = cs_now();
	/* The first step: "task" ends here. */
	if (d->st && step == CS_ST_CREDS && !d->st->calls[CS_ST_TASK]) {
		d->st->ticks[CS_ST_TASK] = d->start > start ? d->start - start : 0;
		d->st->calls[CS_ST_TASK] = 1;
	}
	cs_exit(CS_P_STEP_ENTRY);
	return d->st ? 0 : 1;
}

static __always_inline int step_return(struct kretprobe_instance *ri, enum cs_step step)
{
	struct cs_step_data *d = (void *)ri->data;
	u64 now;

	if (!cs_enter(CS_P_STEP_RET))
		return 0;
	now = cs_now();
	if (now > d->start)
		d->st->ticks[step] += now - d->start;
	d->st->calls[step]++;
	cs_exit(CS_P_STEP_RET);
	return 0;
}

/* A kretprobe's handlers for each step function: each knows its step. */
#define CS_STEP_FN(id, ...)						\
static int step_entry_##id(struct kretprobe_instance *ri, struct pt_regs *regs) \
{									\
	return step_entry(ri, CS_ST_##id);				\
}									\
static int step_return_##id(struct kretprobe_instance *ri, struct pt_regs *regs) \
{									\
	return step_return(ri, CS_ST_##id);				\
}

#include "lists.h"

struct cs_step_fn {
	struct kretprobe rp;
	const char *syms[2];	/* the step's function, or what does its work */
	int err;		/* why none of them could be probed, or 0 */
	bool on;
};

#define CS_STEP_FN(id, ...)						\
	[CS_ST_##id] = {						\
		.rp.entry_handler	= step_entry_##id,		\
		.rp.handler		= step_return_##id,		\
		.rp.data_size		= sizeof(struct cs_step_data),	\
		.syms			= { __VA_ARGS__ },		\
	},
static struct cs_step_fn step_fns[CS_NR_STEPS] = {
#include "lists.h"
};

/*
 * The first of f's names that can be probed (a creation runs each step
 * once at a time: max_inflight instances); else -ENOMEM or the last error.
 */
static int step_fn_register(struct cs_step_fn *f)
{
	int ret = cs_kretprobe_first(&f->rp, f->syms, ARRAY_SIZE(f->syms));

	f->on = !ret;
	f->err = ret;
	return ret;
}

static void step_fns_unregister(void)
{
	struct kretprobe *rps[CS_NR_STEPS];
	unsigned int i, n = 0;

	for (i = 0; i < CS_NR_STEPS; i++)
		if (step_fns[i].on)
			rps[n++] = &step_fns[i].rp;
	/* One wait for the handlers of all of them. */
	if (n)
		unregister_kretprobes(rps, n);
	for (i = 0; i < CS_NR_STEPS; i++)
		step_fns[i].on = false;
}

#define CS_E_STEP_HIST(class)	(CS_E_step_hist_fork + (class))

/* The table and the histograms, once: kept until unload. */
static int cs_steps_alloc(void)
{
	struct cs_steps *table;
	unsigned int c;

	BUILD_BUG_ON(CS_E_step_hist_other - CS_E_step_hist_fork != CS_NR_CLASSES - 1);
	BUILD_BUG_ON(CS_NR_CLASSES - 1 != CS_OTHER);
	if (cs_steps_table)
		return 0;
	for (c = 0; c < CS_NR_CLASSES; c++) {
		enum cs_entry e = CS_E_STEP_HIST(c);
		u64 __percpu *h;

		if (cs_hists[e])
			continue;
		h = __alloc_percpu(cs_entries[e].words * sizeof(u64), __alignof__(u64));
		if (!h)
			return -ENOMEM;
		/* Zeroed before a reset or a reader can see it. */
		smp_store_release(&cs_hists[e], h);
	}
	table = kvcalloc(cs_max_inflight, sizeof(*table), GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	/* The histograms before the table: a creation sees both. */
	smp_store_release(&cs_steps_table, table);
	return 0;
}

/*
 * Step timing on or off: 0, or -ENOMEM with it off.  Functions that
 * cannot be probed are left out (the probes section says why): some
 * kernels lack some of them.
 */
int cs_steps_set(bool on)
{
	unsigned int i;
	int ret;

	if (on == cs_steps_on())
		return 0;
	if (!on) {
		/* Creations in flight now end as steps.partial. */
		WRITE_ONCE(cs_steps_seq, cs_steps_seq + 1);
		step_fns_unregister();
		return 0;
	}
	ret = cs_steps_alloc();
	if (ret)
		return ret;
	for (i = 0; i < CS_NR_STEPS; i++) {
		if (!step_fns[i].syms[0])
			continue;
		ret = step_fn_register(&step_fns[i]);
		if (ret == -ENOMEM) {
			step_fns_unregister();
			return ret;
		}
		if (ret)
			pr_warn("step %s: cannot probe %s: error %d\n", cs_step_names[i],
				step_fns[i].syms[0], ret);
	}
	/* Every probe is in place: creations that start now are timed. */
	WRITE_ONCE(cs_steps_seq, cs_steps_seq + 1);
	return 0;
}

bool cs_steps_on(void)
{
	return READ_ONCE(cs_steps_seq) & 1;
}

/* At unload, every probe gone. */
void cs_steps_free(void)
{
	kvfree(cs_steps_table);
	cs_steps_table = NULL;
	/* The histograms go with the others (cs_buffers_free()). */
}

/*
 * At a creation's start (kernel_clone()'s entry), in its slot's handler:
 * its steps, zeroed, or NULL with step timing off.
 */
struct cs_steps *cs_steps_start(unsigned int slot, unsigned int *seq)
{
	unsigned int s = READ_ONCE(cs_steps_seq);
	struct cs_steps *table, *st;

	*seq = s;
	if (!(s & 1))
		return NULL;
	/* Set before the sequence went odd; with the histograms before it. */
	table = smp_load_acquire(&cs_steps_table);
	st = &table[slot];
	memset(st, 0, sizeof(*st));
	return st;
}

static void cs_step_add(struct cs_counters __percpu *n, u8 class, enum cs_step step,
			u32 calls, u64 ns)
{
	unsigned int k = class * CS_NR_STEPS + step;

	this_cpu_add(n->step_calls[k], calls);
	this_cpu_add(n->step_sum[k], ns);
	cs_max(&n->step_max[k], ns);
	cs_hist(CS_E_STEP_HIST(class), step, ns);
}

/*
 * A successful creation's steps, at kernel_clone()'s return, with its
 * copy and mm phases in nanoseconds: every step that ran, mm_vmas and
 * uncovered, so that they add up to copy + mm.
 */
void cs_steps_record(const struct cs_steps *st, unsigned int seq, u8 class,
		     u64 copy, u64 mm)
{
	struct cs_counters __percpu *n = &cs_cpu->counters;
	u64 covered = 0, ns, pages;
	unsigned int i;

	if (READ_ONCE(cs_steps_seq) != seq) {
		this_cpu_inc(n->steps_partial[0]);
		return;
	}
	this_cpu_inc(n->step_creations[class]);
	this_cpu_add(n->step_phase[class], copy + mm);
	for (i = 0; i < CS_NR_STEPS; i++) {
		if (!st->calls[i] || i == CS_ST_MM_PAGES)
			continue;
		ns = cs_ns(st->ticks[i]);
		covered += ns;
		cs_step_add(n, class, i, st->calls[i], ns);
	}
	/* The page tables are copied inside the mm phase. */
	pages = min(cs_ns(st->ticks[CS_ST_MM_PAGES]), mm);
	if (st->calls[CS_ST_MM_PAGES])
		cs_step_add(n, class, CS_ST_MM_PAGES, st->calls[CS_ST_MM_PAGES], pages);
	if (mm)
		cs_step_add(n, class, CS_ST_MM_VMAS, 1, mm - pages);
	/* Steps can exceed the phase by the clock's rounding only. */
	cs_step_add(n, class, CS_ST_UNCOVERED, 1, copy > covered ? copy - covered : 0);
}

/* The probes section's lines. */
void cs_steps_show(struct seq_file *m)
{
	char role[32];
	unsigned int i;

	if (!cs_steps_on())
		return;
	for (i = 0; i < CS_NR_STEPS; i++) {
		const struct cs_step_fn *f = &step_fns[i];

		if (!f->syms[0])
			continue;
		snprintf(role, sizeof(role), "step.%s", cs_step_names[i]);
		if (f->on)
			seq_printf(m, "%-20s %-19s %6d\n", f->rp.kp.symbol_name, role,
				   READ_ONCE(f->rp.nmissed));
		else
			seq_printf(m, "# %s: not probed (%s: error %d)\n", role,
				   f->syms[0], f->err);
	}
}

/* The counters that are not in the table. */
void cs_steps_counters(struct seq_file *m)
{
	unsigned int i;
	int missed = 0;

	for (i = 0; i < CS_NR_STEPS; i++)
		if (step_fns[i].on)
			missed += READ_ONCE(step_fns[i].rp.nmissed);
	seq_printf(m, "missed.steps %d\n", missed);
}

/* The table and the kretprobe instances of the steps on. */
size_t cs_steps_memory(void)
{
	size_t n = cs_steps_table ? (size_t)cs_max_inflight * sizeof(*cs_steps_table) : 0;
	unsigned int i;

	for (i = 0; i < CS_NR_STEPS; i++)
		if (step_fns[i].on)
			n += cs_rp_bytes(&step_fns[i].rp);
	return n;
}
