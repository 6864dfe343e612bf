// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat per-CPU buffers.
 *
 *   cs_cpu:      per CPU, the nesting guard, the generation, the
 *                counters of the table in lists.h, and
 *     tasks[cs_task_slots]     (kvzalloc_node(), on the CPU's node)
 *     worst[cs_worst_slots]
 *   cs_hists[e]: the table's histogram e, per CPU, an allocation each
 *
 * The rule: a probe handler writes only the buffers of the CPU it runs on,
 * with preemption disabled (kprobe handlers run so; hook.c's ftrace
 * callbacks and the tracepoint probes disable it), and never nests (see
 * cs_enter()); a reader may read any CPU's at any time and never blocks a
 * writer.  No lock, no allocation, no printk on the write side.
 *
 * Counters and histogram buckets are u64 words, machine words on x86-64
 * (the module's architecture), written in place with this_cpu_*() (or
 * cs_max() and cs_hist(), built on them) and read with READ_ONCE(): a
 * reader summing them while writers run gets an approximate total, never
 * a torn word.
 *
 * Entries of tasks[] and worst[] are several words that must be read
 * together.  Each has a seqcount, written only by its CPU: the writer
 * makes it odd, writes the entry, makes it even (the write barriers of
 * raw_write_seqcount_begin()/end() order the count against the entry's
 * words); a reader copies the entry between read_seqcount_begin() and
 * read_seqcount_retry() and retries a copy that a write overlapped.
 *
 * What cannot be recorded is counted: a task-table window full of other
 * processes evicts the one with the fewest clones (tasks.evictions); the
 * probes count their own drops (drops.*) and kretprobe misses.
 *
 * A reset must not write another CPU's buffer either.  It moves the
 * generation cs_gen on; each CPU zeroes its own counters at its next
 * handler (cs_cpu_reset()), and entries of tasks[] and worst[] written
 * under an older generation count as free.  Readers take a CPU, or an
 * entry, of an older generation as empty, so a reset shows at once even
 * on CPUs that stay idle or offline.
 */

#include <linux/clocksource.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "clonestat.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

struct cs_cpu __percpu *cs_cpu;
u64 __percpu *cs_hists[CS_NR_ENTRIES] __read_mostly;

/* 0, or a build error for an entry of more than CS_ENTRY_MAX_BYTES. */
#define CS_FITS(words)	BUILD_BUG_ON_ZERO((words) * sizeof(u64) > CS_ENTRY_MAX_BYTES)

#define CS_COUNTER(id, o, i, mg, sh, nm)					\
	{ .name = nm, .off = offsetof(struct cs_counters, id) / sizeof(u64),	\
	  .words = CS_N_##o * CS_N_##i,						\
	  .outer = CS_D_##o, .inner = CS_D_##i, .merge = CS_##mg, .show = CS_SHOW_##sh },
#define CS_HIST(id, o, i, u, nm)						\
	{ .name = nm, .unit = u,						\
	  .words = CS_N_##o * CS_N_##i * CS_NR_BUCKETS +			\
		   CS_FITS(CS_N_##o * CS_N_##i * CS_NR_BUCKETS),		\
	  .outer = CS_D_##o, .inner = CS_D_##i, .merge = CS_SUM, .show = CS_SHOW_NONZERO },
const struct cs_entry_desc cs_entries[CS_NR_ENTRIES] = {
#include "lists.h"
};

DEFINE_STATIC_KEY_FALSE(cs_clock_tsc);
u32 cs_tsc_mult, cs_tsc_shift;

/* The clock (see cs_now()), chosen at load before any probe reads it. */
void cs_clock_init(void)
{
	if (!cs_tsc_usable())
		return;
	/*
	 * Cycles a millisecond to nanoseconds a millisecond, with the widest
	 * shift, as the kernel's own cycles-to-ns (set_cyc2ns_scale() in
	 * arch/x86/kernel/tsc.c): cs_ns() multiplies into 128 bits, so no
	 * range of values bounds the shift.
	 */
	clocks_calc_mult_shift(&cs_tsc_mult, &cs_tsc_shift, cs_tsc_khz(),
			       NSEC_PER_MSEC, 0);
	static_branch_enable(&cs_clock_tsc);
}

const char *cs_clock_name(void)
{
	return static_key_enabled(&cs_clock_tsc) ? "tsc" : "mono";
}

unsigned int cs_task_slots = 256;
unsigned int cs_worst_slots = 16;

/* The window search of cs_task_begin() (clonestat.h), and a new row. */
noinline struct cs_task *cs_task_find(struct cs_cpu *c, bool name)
{
	struct task_struct *leader = current->group_leader;
	pid_t tgid = task_tgid_nr(current);
	u64 start = leader->start_time;
	u32 victim_events = U32_MAX;
	unsigned int h = hash_32(tgid, 32), i;
	struct cs_task *t, *victim = NULL;

	for (i = 0; i < CS_TASK_WINDOW; i++) {
		t = &c->tasks[cs_window_idx(h, i, cs_task_slots - 1)];
		if (t->gen != c->gen) {
			/* Freed by a reset: the first choice of victim. */
			victim = t;
			victim_events = 0;
			continue;
		}
		if (t->tgid == tgid && t->start == start) {
			c->last_task = t;
			raw_write_seqcount_begin(&t->seq);
			goto out_comm;
		}
		if (!victim || t->events < victim_events) {
			victim = t;
			victim_events = t->events;
		}
	}

	t = victim;
	c->last_task = t;
	name = true;
	raw_write_seqcount_begin(&t->seq);
	if (t->tgid && t->gen == c->gen)
		this_cpu_inc(cs_cpu->counters.task_evictions[0]);
	this_cpu_inc(cs_cpu->counters.task_inserts[0]);
	t->gen = c->gen;
	memset(t->calls, 0, sizeof(t->calls));
	t->events = 0;
	t->tgid = tgid;
	t->start = start;
	t->lat_sum = 0;
	t->lat_max = 0;
	t->cow_copies = 0;
	t->cow_reuses = 0;
out_comm:
	if (name)
		cs_task_name(t, leader);
	return t;
}

static void cs_task_account(struct cs_cpu *c, const struct cs_record *r)
{
	struct cs_task *t = cs_task_begin(c, true);

	t->calls[r->class]++;
	t->events++;
	t->lat_sum += r->lat;
	if (r->lat > t->lat_max)
		t->lat_max = r->lat;
	cs_task_end(t);
}

static void cs_worst_account(struct cs_cpu *c, const struct cs_record *r)
{
	struct cs_worst *w = NULL;
	unsigned int i;
	u64 floor;

	/* Most creations are not among the slowest: one compare. */
	if (r->lat <= c->worst_floor)
		return;
	/* The fastest kept, or an entry freed by a reset. */
	for (i = 0; i < cs_worst_slots; i++) {
		struct cs_worst *e = &c->worst[i];

		if (e->gen != c->gen) {
			w = e;
			break;
		}
		if (!w || e->lat < w->lat)
			w = e;
	}
	if (w->gen == c->gen && r->lat <= w->lat)
		return;

	raw_write_seqcount_begin(&w->seq);
	w->gen = c->gen;
	w->lat = r->lat;
	w->start = current->group_leader->start_time;
	w->child_start = r->child_start;
	memcpy(w->phase, r->phase, sizeof(w->phase));
	w->flags = r->flags;
	w->parent_kib = r->parent_kib;
	w->pid = r->child;
	w->tgid = task_tgid_nr(current);
	w->result = r->result;
	w->class = r->class;
	memcpy(w->comm, current->comm, sizeof(w->comm));
	w->comm[sizeof(w->comm) - 1] = '\0';
	raw_write_seqcount_end(&w->seq);

	/* The new floor: the fastest kept, 0 while an entry is free. */
	floor = U64_MAX;
	for (i = 0; i < cs_worst_slots; i++) {
		const struct cs_worst *e = &c->worst[i];

		floor = e->gen == c->gen ? min(floor, e->lat) : 0;
		if (!floor)
			break;
	}
	c->worst_floor = floor;
}

/* Called by the probes, in probe context, for every finished creation. */
void cs_record(const struct cs_record *r)
{
	/*
	 * In locals: the compiler reloads through r and cs_cpu after
	 * every this_cpu_*() write, which it must take as possibly writing
	 * them.
	 */
	struct cs_counters __percpu *n = &cs_cpu->counters;
	struct cs_cpu *c = this_cpu_ptr(cs_cpu);
	unsigned long class = r->class;
	unsigned int i;
	u64 lat = r->lat, flags;

	trace_clone(r);
	this_cpu_inc(n->class_calls[class]);
	for (flags = r->flags; flags; flags &= flags - 1)
		this_cpu_inc(n->flags[__ffs64(flags)]);
	if (r->exit_signal != SIGCHLD && r->exit_signal >= 0 &&
	    r->exit_signal < CS_NR_SIGNALS)
		this_cpu_inc(n->exit_signals[r->exit_signal]);
	if (r->untimed) {
		this_cpu_inc(n->class_untimed[class]);
		cs_task_account(c, r);
		return;
	}
	if (r->result)
		this_cpu_inc(n->class_failed[class]);
	this_cpu_add(n->class_lat_sum[class], lat);
	cs_max(&n->class_lat_max[class], lat);
	/* Unrolled: GCC keeps a loop of this_cpu_*()s (asm volatile) a loop. */
#pragma GCC unroll 8
	for (i = 0; i < CS_NR_PHASES; i++)
		this_cpu_add(n->class_phase[class * CS_NR_PHASES + i], r->phase[i]);
	cs_hist(CS_E_latency, class, lat);

	if (r->flags & CLONE_VFORK && r->vfork_blocked) {
		cs_hist(CS_E_vfork_blocked, 0, r->vfork_blocked);
		this_cpu_add(n->vfork_blocked_sum[0], r->vfork_blocked);
	}
	if (r->has_size) {
		unsigned int b = cs_log2_bucket(r->parent_kib, CS_NR_SIZES);

		this_cpu_inc(n->size_forks[b]);
		this_cpu_add(n->size_lat_sum[b], lat);
		cs_max(&n->size_lat_max[b], lat);
	}
	if (r->result)
		this_cpu_inc(n->errnos[-r->result < CS_NR_ERRNO ? -r->result : 0]);

	cs_task_account(c, r);
	cs_worst_account(c, r);
}

/*
 * Zero this CPU's counters and histograms for generation gen, in probe
 * context: a memset of each, a few KiB in all, once a CPU per reset.
 * The tables are not touched: their entries of older generations count
 * as free.
 */
void cs_cpu_reset(struct cs_cpu *c, unsigned int gen)
{
	size_t from = offsetof(struct cs_cpu, worst_floor);
	unsigned int e;

	for (e = 0; e < CS_NR_ENTRIES; e++) {
		/* Step timing's are allocated when it first goes on: zeroed. */
		u64 __percpu *h = READ_ONCE(cs_hists[e]);

		if (h)
			memset(this_cpu_ptr(h), 0, cs_entries[e].words * sizeof(u64));
	}
	memset((char *)c + from, 0, sizeof(*c) - from);
	/* Readers that see the new generation see zeroed counters. */
	smp_wmb();
	WRITE_ONCE(c->gen, gen);
}

/* A new task's first run, timed from its wakeup. */
void cs_record_first_run(u8 class, bool same_cpu, u64 lat, bool killed)
{
	trace_first_run(class, same_cpu, lat, killed);
	cs_hist(CS_E_first_run, class * CS_N_SIDE + (same_cpu ? 0 : 1), lat);
	this_cpu_add(cs_cpu->counters.first_run_lat_sum[class], lat);
	if (killed)
		this_cpu_inc(cs_cpu->counters.first_run_killed[0]);
}

/* A fork's COW bill, closed: pages copied in the child and the parent. */
void cs_record_bill(u8 class, u64 child_copies, u64 parent_copies)
{
	struct cs_counters __percpu *n = &cs_cpu->counters;	/* as in cs_record() */

	trace_cow_bill(class, child_copies, parent_copies);
	this_cpu_inc(n->bills[class]);
	this_cpu_add(n->bill_child_copies[class], child_copies);
	this_cpu_add(n->bill_parent_copies[class], parent_copies);
	cs_hist(CS_E_cow_pages, class, child_copies);
}

/* The histograms allocated, per CPU. */
static size_t cs_hist_bytes(void)
{
	size_t n = 0;
	unsigned int e;

	for (e = 0; e < CS_NR_ENTRIES; e++)
		if (READ_ONCE(cs_hists[e]))
			n += cs_entries[e].words * sizeof(u64);
	return n;
}

/* One CPU's buffers: its counters, its histograms and its two tables. */
size_t cs_buffers_per_cpu(void)
{
	return sizeof(struct cs_cpu) + cs_hist_bytes() +
	       (size_t)cs_task_slots * sizeof(struct cs_task) +
	       (size_t)cs_worst_slots * sizeof(struct cs_worst);
}

int cs_buffers_alloc(void)
{
	unsigned int e;
	int cpu;

	for (e = 0; e < CS_NR_ENTRIES; e++) {
		/* Step timing allocates its own (steps.c). */
		if (!cs_entries[e].unit ||
		    (e >= CS_E_step_hist_fork && e <= CS_E_step_hist_other))
			continue;
		cs_hists[e] = __alloc_percpu(cs_entries[e].words * sizeof(u64),
					     __alignof__(u64));
		if (!cs_hists[e])
			goto out_free;
	}
	BUILD_BUG_ON(sizeof(struct cs_cpu) > CS_ENTRY_MAX_BYTES);
	cs_cpu = alloc_percpu(struct cs_cpu);
	if (!cs_cpu)
		goto out_free;
	for_each_possible_cpu(cpu) {
		struct cs_cpu *c = per_cpu_ptr(cs_cpu, cpu);
		unsigned int i;

		c->tasks = kvzalloc_node(array_size(cs_task_slots, sizeof(*c->tasks)),
					 GFP_KERNEL, cpu_to_node(cpu));
		c->worst = kvzalloc_node(array_size(cs_worst_slots, sizeof(*c->worst)),
					 GFP_KERNEL, cpu_to_node(cpu));
		if (!c->tasks || !c->worst)
			goto out_free;
		c->last_task = c->tasks;
		for (i = 0; i < cs_task_slots; i++)
			seqcount_init(&c->tasks[i].seq);
		for (i = 0; i < cs_worst_slots; i++)
			seqcount_init(&c->worst[i].seq);
	}
	return 0;

out_free:
	cs_buffers_free();
	return -ENOMEM;
}

void cs_buffers_free(void)
{
	unsigned int e;
	int cpu;

	for (e = 0; e < CS_NR_ENTRIES; e++) {
		free_percpu(cs_hists[e]);
		cs_hists[e] = NULL;
	}
	if (!cs_cpu)
		return;
	for_each_possible_cpu(cpu) {
		struct cs_cpu *c = per_cpu_ptr(cs_cpu, cpu);

		kvfree(c->tasks);
		kvfree(c->worst);
	}
	free_percpu(cs_cpu);
	cs_cpu = NULL;
}
