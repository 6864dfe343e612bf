// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat per-CPU buffers.
 *
 *   CPU 0: struct cs_cpu     CPU 1: struct cs_cpu    ...
 *     counters, histograms     counters, histograms
 *     tasks[cs_task_slots]     tasks[cs_task_slots]
 *     worst[cs_worst_slots]    worst[cs_worst_slots]
 *
 * The rule: a probe handler writes only the cs_cpu of the CPU it runs on,
 * with preemption disabled (kprobe handlers run so; hook.c's ftrace
 * callbacks and the tracepoint probes disable it), and never nests (see
 * cs_enter()); a reader may read any CPU's at any time and never blocks a
 * writer.  No lock, no allocation, no printk on the write side.
 *
 * Counters and histogram buckets are single machine words, incremented in
 * place: a reader summing them while writers run gets an approximate
 * total, never a torn word.
 *
 * Entries of tasks[] and worst[] are several words that must be read
 * together.  Each has a seqcount, written only by its CPU: the writer
 * makes it odd, writes the entry, makes it even (the write barriers of
 * raw_write_seqcount_begin()/end() order the count against the entry's
 * words); a reader copies the entry between read_seqcount_begin() and
 * read_seqcount_retry() and retries a copy that a write overlapped.
 *
 * What cannot be recorded is counted: a task-table window full of other
 * processes evicts the one with the fewest clones (task_evictions); the
 * probes count their own drops (cs_drop) and kretprobe misses.
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
			c->last_task = t - c->tasks;
			raw_write_seqcount_begin(&t->seq);
			goto out_comm;
		}
		if (!victim || t->events < victim_events) {
			victim = t;
			victim_events = t->events;
		}
	}

	t = victim;
	c->last_task = t - c->tasks;
	name = true;
	raw_write_seqcount_begin(&t->seq);
	if (t->tgid && t->gen == c->gen)
		c->task_evictions++;
	c->task_inserts++;
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
	struct cs_cpu *c = this_cpu_ptr(cs_cpu);
	unsigned int b, i;
	u64 flags;

	trace_clone(r);
	c->class_calls[r->class]++;
	for (flags = r->flags; flags; flags &= flags - 1)
		c->flag_count[__ffs64(flags)]++;
	if (r->exit_signal != SIGCHLD && r->exit_signal >= 0 &&
	    r->exit_signal < CS_NR_SIGNALS)
		c->signal_count[r->exit_signal]++;
	if (r->untimed) {
		c->class_untimed[r->class]++;
		cs_task_account(c, r);
		return;
	}
	if (r->result)
		c->class_failed[r->class]++;
	c->class_lat_sum[r->class] += r->lat;
	if (r->lat > c->class_lat_max[r->class])
		c->class_lat_max[r->class] = r->lat;
	for (i = 0; i < CS_NR_PHASES; i++)
		c->class_phase[r->class][i] += r->phase[i];
	c->lat_hist[r->class][cs_log2_bucket(r->lat, CS_NR_BUCKETS)]++;

	if (r->flags & CLONE_VFORK && r->vfork_blocked) {
		c->vfork_blocked_hist[cs_log2_bucket(r->vfork_blocked, CS_NR_BUCKETS)]++;
		c->vfork_blocked_sum += r->vfork_blocked;
	}
	if (r->has_size) {
		b = cs_log2_bucket(r->parent_kib, CS_NR_SIZES);
		c->size_count[b]++;
		c->size_lat_sum[b] += r->lat;
		if (r->lat > c->size_lat_max[b])
			c->size_lat_max[b] = r->lat;
	}
	if (r->result)
		c->err_count[-r->result < CS_NR_ERRNO ? -r->result : 0]++;

	cs_task_account(c, r);
	cs_worst_account(c, r);
}

/*
 * Zero this CPU's counters for generation gen, in probe context: a
 * memset of a few KiB, once a CPU per reset.  The tables are not
 * touched: their entries of older generations count as free.
 */
void cs_cpu_reset(struct cs_cpu *c, unsigned int gen)
{
	size_t from = offsetof(struct cs_cpu, calls);

	memset((char *)c + from, 0, sizeof(*c) - from);
	/* Readers that see the new generation see zeroed counters. */
	smp_wmb();
	WRITE_ONCE(c->gen, gen);
}

/* A new task's first run, timed from its wakeup. */
void cs_record_first_run(u8 class, bool same_cpu, u64 lat, bool killed)
{
	struct cs_cpu *c = this_cpu_ptr(cs_cpu);

	trace_first_run(class, same_cpu, lat, killed);
	c->first_run_hist[class][same_cpu ? 0 : 1][cs_log2_bucket(lat, CS_NR_BUCKETS)]++;
	c->first_run_sum[class] += lat;
	if (killed)
		c->first_run_killed++;
}

/* A fork's COW bill, closed: pages copied in the child and the parent. */
void cs_record_bill(u8 class, u64 child_copies, u64 parent_copies)
{
	struct cs_cpu *c = this_cpu_ptr(cs_cpu);

	trace_cow_bill(class, child_copies, parent_copies);
	c->bills_closed[class]++;
	c->bill_child_copies[class] += child_copies;
	c->bill_parent_copies[class] += parent_copies;
	c->bill_hist[class][cs_log2_bucket(child_copies, CS_NR_BUCKETS)]++;
}

/* One CPU's buffers: its counters and its two tables. */
size_t cs_buffers_per_cpu(void)
{
	return sizeof(struct cs_cpu) + (size_t)cs_task_slots * sizeof(struct cs_task) +
	       (size_t)cs_worst_slots * sizeof(struct cs_worst);
}

int cs_buffers_alloc(void)
{
	int cpu;

	cs_cpu = alloc_percpu(struct cs_cpu);
	if (!cs_cpu)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct cs_cpu *c = per_cpu_ptr(cs_cpu, cpu);
		unsigned int i;

		c->tasks = kvzalloc_node(array_size(cs_task_slots, sizeof(*c->tasks)),
					 GFP_KERNEL, cpu_to_node(cpu));
		c->worst = kvzalloc_node(array_size(cs_worst_slots, sizeof(*c->worst)),
					 GFP_KERNEL, cpu_to_node(cpu));
		if (!c->tasks || !c->worst)
			goto out_free;
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
	int cpu;

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
