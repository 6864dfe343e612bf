// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat probes: follow each task creation from kernel_clone() to the
 * child's wakeup, split into phases, and hand the result to stats.c.
 *
 *   kernel_clone()              kretprobe: the call, its flags, its result
 *     copy_process()
 *       dup_mmap()              phase "mm", from its first step to its last:
 *         uprobe_start_dup_mmap()  hook: the mm phase starts
 *         uprobe_end_dup_mmap()    hook: ... and ends (without them, a
 *                               kretprobe on dup_mmap(), or on
 *                               copy_page_range() per VMA where
 *                               dup_mmap() is inlined)
 *       task_newtask            tracepoint: phase "copy" ends
 *     wake_up_new_task(child)
 *       sched_wakeup_new        tracepoint: the fork's own cost ends here
 *     (CLONE_VFORK: waits for the child; that is "vfork blocked" time)
 *   schedule_tail()             hook, in the child: its first run, timed
 *                               from its wakeup (any new task, workers too)
 *
 * Tracepoints where they mark the moment, and hooks (hook.h: an ftrace
 * callback, or a kprobe where ftrace cannot give arguments) for function
 * entries: a kprobe costs a few hundred guest instructions a hit, an
 * ftrace callback or a tracepoint a few tens (README, "Overhead").
 * io_uring and user workers and idle threads are made by copy_process()
 * without kernel_clone(): task_newtask counts them, untimed.
 *
 * The in-flight table
 * -------------------
 * The probes of one creation run in the creating task, one after the
 * other, possibly on different CPUs (copy_process() sleeps).  What they
 * share lives in a slot of inflight[], keyed by that task: the first probe
 * claims a free slot with cmpxchg(), the task owns it until kernel_clone()
 * returns, and releases it with smp_store_release().  Only the owner reads
 * or writes a claimed slot, so the slot needs no further ordering: a task
 * runs its probes one at a time and migration between CPUs orders its
 * memory accesses.  A task can own only one slot: it is in at most one
 * kernel_clone() at a time.
 *
 * A task looks for its slot in a window of CS_WINDOW entries from a hash
 * of its task_struct address.  A full window is counted (drops.inflight)
 * and the clone still counted, without phases.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/signal.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/timekeeping.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>

#include "clonestat.h"
#include "compat.h"
#include "hook.h"

/* Flags that create a namespace; bit 37 is 7.2's CLONE_EMPTY_MNTNS. */
#define CS_NEW_FLAGS	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
			 CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
			 CLONE_NEWNET | CLONE_NEWTIME | BIT_ULL(37))
/* Flags that share something other than the address space. */
#define CS_SHARE_FLAGS	(CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | \
			 CLONE_PARENT | CLONE_IO)

unsigned int cs_max_inflight = 1024;
module_param_named(max_inflight, cs_max_inflight, uint, 0444);
MODULE_PARM_DESC(max_inflight,
		 "Task creations followed at once (power of two, 64..65536; default 1024)");

static char clone_symbol[KSYM_NAME_LEN] = "kernel_clone";
module_param_string(clone_symbol, clone_symbol, sizeof(clone_symbol), 0444);
MODULE_PARM_DESC(clone_symbol, "Function probed for clone calls (default kernel_clone)");

struct cs_inflight {
	struct task_struct *owner;	/* NULL: free */
	u64 start;			/* cs_now() at the first probe */
	u64 wake;			/* ... at the child's wakeup, or 0 */
	u64 phase_copy;			/* copy_process(), mm copy included: ticks */
	u64 phase_mm;			/* the mm copy: ticks */
	u64 mm_start;			/* cs_now() at the mm copy's start, or 0 */
	u64 flags;
	u64 parent_kib;
	u64 child_start;
	pid_t child;
	int exit_signal;
	unsigned int filter_seq;	/* the filter it began under */
	unsigned int steps_seq;		/* step timing's, at the start */
	struct cs_steps *steps;		/* NULL: not timed by steps */
	u8 class;
	bool has_size;
};

static struct cs_inflight *inflight;
static unsigned int inflight_mask;

/* Entry data of the kretprobes. */
struct cs_clone_data {
	struct cs_inflight *slot;	/* NULL: no slot could be claimed */
	struct cs_inflight local;	/* the record when there is no slot */
};

struct cs_phase_data {
	u64 start;
	struct cs_inflight *slot;
};

static inline struct cs_inflight *slot_find(void)
{
	return cs_window_lookup(inflight, sizeof(*inflight),
				offsetof(struct cs_inflight, owner), inflight_mask,
				cs_hash(current), current);
}

static inline struct cs_inflight *slot_claim(void)
{
	return cs_window_claim(inflight, sizeof(*inflight),
			       offsetof(struct cs_inflight, owner), inflight_mask,
			       cs_hash(current), current);
}

static inline void slot_release(struct cs_inflight *s)
{
	/* Our accesses to the slot complete before another task can own it. */
	smp_store_release(&s->owner, NULL);
}

static u8 cs_classify(u64 flags, const struct kernel_clone_args *args)
{
	if (cs_args_kthread(args) || cs_args_idle(args))
		return CS_KTHREAD;
	if (cs_args_io_thread(args) || cs_args_user_worker(args))
		return CS_WORKER;
	if (flags & CS_NEW_FLAGS)
		return CS_NS;
	if (flags & CLONE_THREAD)
		return CS_THREAD;
	if (flags & CLONE_VFORK)
		return CS_VFORK;
	if (flags & CLONE_VM)
		return CS_SHARED_VM;
	if (flags & CS_SHARE_FLAGS)
		return CS_OTHER;
	return CS_FORK;
}

static void slot_start(struct cs_inflight *s, const struct kernel_clone_args *args,
		       unsigned int filter_seq)
{
	struct mm_struct *mm = current->mm;

	s->start = cs_now();
	s->filter_seq = filter_seq;
	s->wake = 0;
	s->phase_copy = 0;
	s->phase_mm = 0;
	s->mm_start = 0;
	s->flags = args->flags;
	s->exit_signal = args->exit_signal;
	s->class = cs_classify(s->flags, args);
	s->child = 0;
	s->child_start = 0;
	/* The mm is copied: fork cost grows with the parent's mappings. */
	s->has_size = mm && !(s->flags & CLONE_VM) && !(current->flags & PF_KTHREAD);
	s->parent_kib = mm ? READ_ONCE(mm->total_vm) << (PAGE_SHIFT - 10) : 0;
}

static void slot_finish(const struct cs_inflight *s, int result)
{
	u64 now = 0, end, lat, mm, copy;
	struct cs_record r = {
		.flags = s->flags,
		.parent_kib = s->parent_kib,
		.child = result < 0 ? 0 : s->child,
		.child_start = s->child_start,
		.result = result < 0 ? result : 0,
		.exit_signal = s->exit_signal,
		.class = s->class,
		.has_size = s->has_size,
	};

	/*
	 * The cost ends at the child's wakeup; a failed call's at its return,
	 * and the clock is read here only then, or for the vfork wait.  The
	 * clock is monotonic across CPUs; the clamps are for safety.
	 */
	if (!s->wake || s->flags & CLONE_VFORK)
		now = cs_now();
	end = s->wake ? s->wake : now;
	lat = end > s->start ? end - s->start : 0;
	/*
	 * In nanoseconds before the phases are split, so that they add up
	 * to the latency exactly (cs_ns() is monotonic: the mins hold).
	 */
	r.lat = cs_ns(lat);
	mm = min(cs_ns(s->phase_mm), r.lat);
	copy = min(cs_ns(s->phase_copy), r.lat);
	r.phase[CS_PH_MM] = mm;
	r.phase[CS_PH_COPY] = copy > mm ? copy - mm : 0;
	r.phase[CS_PH_REST] = r.lat - max(copy, mm);
	/* Timed by steps, made, and its copy phase marked (task_newtask). */
	if (s->steps && result >= 0 && s->phase_copy)
		cs_steps_record(s->steps, s->steps_seq, s->class, r.phase[CS_PH_COPY],
				r.phase[CS_PH_MM]);
	if (s->wake && (s->flags & CLONE_VFORK) && now > s->wake)
		r.vfork_blocked = cs_ns(now - s->wake);
	cs_record(&r);
}

/* kernel_clone(struct kernel_clone_args *args) */
static int clone_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kernel_clone_args *args = (void *)regs_get_kernel_argument(regs, 0);
	struct cs_clone_data *d = (void *)ri->data;
	unsigned int seq;

	d->slot = NULL;
	d->local.start = 0;		/* no slot, no start: no record */
	if (!cs_enter(CS_P_CLONE_ENTRY))
		return 0;		/* counted as a drop */
	seq = cs_filter_seq_read();
	if (!cs_wanted()) {
		cs_exit(CS_P_CLONE_ENTRY);
		return 0;		/* counted as ignored */
	}
	this_cpu_inc(cs_cpu->counters.calls[0]);
	if (current->flags & PF_KTHREAD)
		this_cpu_inc(cs_cpu->counters.calls_kthread[0]);
	d->slot = slot_claim();
	if (!d->slot) {
		this_cpu_inc(cs_cpu->counters.drops[CS_DROP_INFLIGHT]);
		slot_start(&d->local, args, seq);
		d->local.steps = NULL;
	} else {
		slot_start(d->slot, args, seq);
		d->slot->steps = cs_steps_start(d->slot - inflight, &d->slot->steps_seq);
	}
	cs_exit(CS_P_CLONE_ENTRY);
	return 0;
}

static int clone_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cs_clone_data *d = (void *)ri->data;
	/* kernel_clone() returns pid_t: only the low 32 bits of the register. */
	pid_t ret = (pid_t)regs_return_value(regs);
	struct cs_inflight *s = d->slot ? d->slot : &d->local;

	if (!d->slot && !d->local.start)
		return 0;
	if (!cs_enter(CS_P_CLONE_RET)) {
		if (d->slot)
			slot_release(d->slot);
		return 0;
	}
	if (ret < 0)
		this_cpu_inc(cs_cpu->counters.failed[0]);
	else
		this_cpu_inc(cs_cpu->counters.ok[0]);
	if (cs_filter_changed(s->filter_seq))
		this_cpu_inc(cs_cpu->counters.ignored[CS_IGN_FILTER]);
	else
		slot_finish(s, ret);
	if (d->slot)
		slot_release(d->slot);
	cs_exit(CS_P_CLONE_RET);
	return 0;
}

/* For the step handlers (steps.c), in the creating task. */
struct cs_steps *cs_steps_current(u64 *start)
{
	struct cs_inflight *s = slot_find();

	if (!s || !s->steps)
		return NULL;
	*start = s->start;
	return s->steps;
}

/*
 * task_newtask(p, clone_flags), at the end of a copy_process() that made
 * p: the copy phase ends here.  A task made by copy_process() without
 * kernel_clone() (an io_uring or user worker, an idle thread) is counted
 * here, untimed: nothing marks where its creation began.  Any other task
 * without a slot is a clone whose slot could not be claimed: it is
 * counted at kernel_clone()'s return.
 */
static void newtask_record(struct task_struct *p, u64 clone_flags)
{
	struct cs_inflight *s;

	if (!cs_enter(CS_P_NEWTASK))
		return;
	s = slot_find();
	if (s) {
		s->phase_copy = cs_now() - s->start;
	} else if (cs_task_is_direct(p) && cs_wanted()) {
		struct cs_record r = {
			.flags = clone_flags,
			.child = task_pid_nr(p),
			.child_start = p->start_time,
			.exit_signal = p->exit_signal,
			.class = p->flags & PF_KTHREAD ? CS_KTHREAD : CS_WORKER,
			.untimed = true,
		};

		this_cpu_inc(cs_cpu->counters.direct[0]);
		cs_record(&r);
	}
	cs_exit(CS_P_NEWTASK);
}

/*
 * Where tracepoints call their probes under SRCU (7.2), a probe can be
 * preempted; the handlers need their CPU from cs_enter() to cs_exit()
 * (per-CPU counters, the nesting guard, the RCU-sched filter), or a
 * preempted handler makes others on its CPU count drops.nested.
 */
static void newtask_probe(void *data, struct task_struct *p, u64 clone_flags)
{
	preempt_disable_notrace();
	newtask_record(p, clone_flags);
	preempt_enable_notrace();
}

/* dup_mmap() or copy_page_range(): the memory-map copy. */
static int mm_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cs_phase_data *d = (void *)ri->data;

	d->slot = NULL;
	if (!cs_enter(CS_P_MM_ENTRY))
		return 0;
	d->slot = slot_find();
	d->start = cs_now();
	cs_exit(CS_P_MM_ENTRY);
	return 0;
}

/* The mm copy that began at start (cs_now()) ends now: its ticks to phase_mm. */
static void mm_phase_add(struct cs_inflight *s, u64 start)
{
	u64 now = cs_now();

	if (now > start)
		s->phase_mm += now - start;
}

static int mm_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cs_phase_data *d = (void *)ri->data;

	if (!d->slot || !cs_enter(CS_P_MM_RET))
		return 0;
	mm_phase_add(d->slot, d->start);
	cs_exit(CS_P_MM_RET);
	return 0;
}

/*
 * The mm copy's markers: dup_mmap() calls uprobe_start_dup_mmap() before
 * its work and uprobe_end_dup_mmap() on every way out, and nothing else
 * calls them.  Two hooks cost a few tens of instructions each where a
 * kretprobe costs some 400 (`make profile`), and they are there even
 * where dup_mmap() is inlined.  Without CONFIG_UPROBES they are empty
 * inline functions: then a kretprobe does it (mm_symbols).
 */
static void mm_start_hook(unsigned long unused)
{
	struct cs_inflight *s;

	if (!cs_enter(CS_P_MM_ENTRY))
		return;
	s = slot_find();
	if (s)
		s->mm_start = cs_now();
	cs_exit(CS_P_MM_ENTRY);
}

static void mm_end_hook(unsigned long unused)
{
	struct cs_inflight *s;

	if (!cs_enter(CS_P_MM_RET))
		return;
	s = slot_find();
	if (s && s->mm_start) {
		mm_phase_add(s, s->mm_start);
		s->mm_start = 0;
	}
	cs_exit(CS_P_MM_RET);
}

/* The end first: no start is marked before its end can be. */
static struct cs_hook mm_marks[] = {
	CS_HOOK("uprobe_end_dup_mmap", mm_end_hook),
	CS_HOOK("uprobe_start_dup_mmap", mm_start_hook),
};

/*
 * The children woken and not yet run, keyed by the child: the parent
 * claims a slot in wake_up_new_task() and publishes the wakeup time with
 * smp_store_release(); the child, in schedule_tail(), finds its slot,
 * reads the time with smp_load_acquire() and releases the slot.  (The
 * child cannot run before the wakeup's probe returns anyway.)
 */
struct cs_child {
	struct task_struct *task;	/* NULL: free */
	u64 wake;			/* 0: not published yet */
	int waker_cpu;
	unsigned int filter_seq;	/* the filter of the wakeup */
	u8 class;
};

static struct cs_child *children;

static inline struct cs_child *child_find(struct task_struct *p)
{
	return cs_window_lookup(children, sizeof(*children),
				offsetof(struct cs_child, task), inflight_mask,
				cs_hash(p), p);
}

static inline struct cs_child *child_claim(struct task_struct *p)
{
	return cs_window_claim(children, sizeof(*children),
			       offsetof(struct cs_child, task), inflight_mask,
			       cs_hash(p), p);
}

/*
 * The class of a child woken with no kernel_clone() record: a worker or a
 * kernel thread made by copy_process() alone, or a clone whose record was
 * dropped (told from the child, roughly).
 */
static u8 cs_class_of_child(struct task_struct *p)
{
	if (p->flags & PF_KTHREAD)
		return CS_KTHREAD;
	if (cs_task_is_direct(p))
		return CS_WORKER;
	if (p->vfork_done)
		return CS_VFORK;
	if (same_thread_group(p, current))
		return CS_THREAD;
	if (p->mm == current->mm)
		return CS_SHARED_VM;
	return CS_FORK;
}

/* sched_wakeup_new(p), in wake_up_new_task(), under p's runqueue lock. */
static void wakeup_new_record(struct task_struct *p)
{
	struct cs_inflight *s;
	struct cs_child *c;
	unsigned int seq;
	u64 now;
	u8 class;

	if (!cs_enter(CS_P_WAKE))
		return;
	seq = cs_filter_seq_read();
	s = slot_find();
	if (s && s->filter_seq != seq) {
		/* Begun under a filter since replaced: not recorded, nor its child. */
		cs_exit(CS_P_WAKE);
		return;
	}
	/* The wakeup: the creation's end and the start of the child's wait. */
	now = cs_now();
	if (s) {
		s->wake = now;
		s->child = task_pid_nr(p);
		s->child_start = p->start_time;
		class = s->class;
		/* A forked address space: its COW bill opens now. */
		if (s->has_size && p->mm && p->mm != current->mm)
			cs_cow_bill_open(p->mm, current->mm, class);
	} else if (cs_ignored() == CS_NR_IGNORES) {
		class = cs_class_of_child(p);
	} else {
		/* A creation not recorded (disabled, filtered): nor its child. */
		cs_exit(CS_P_WAKE);
		return;
	}
	c = child_claim(p);
	if (c) {
		c->waker_cpu = smp_processor_id();
		c->filter_seq = seq;
		c->class = class;
		/* Publishes the fields above with the time (see cs_child). */
		smp_store_release(&c->wake, now);
	} else {
		this_cpu_inc(cs_cpu->counters.drops[CS_DROP_CHILD]);
	}
	cs_exit(CS_P_WAKE);
}

/* As newtask_probe(); the runqueue lock has preemption off already. */
static void wakeup_new_probe(void *data, struct task_struct *p)
{
	preempt_disable_notrace();
	wakeup_new_record(p);
	preempt_enable_notrace();
}

/*
 * schedule_tail(prev), in a new task: its first run.  Not the cheaper
 * sched_switch tracepoint: attaching to it patches __schedule(), which
 * under QEMU/TCG hung the debug kernel's CPUs at the patch site (README,
 * "Known problems"); schedule_tail() runs only in new tasks.
 */
static void first_run_hook(unsigned long prev)
{
	struct cs_child *c = child_find(current);
	u64 wake, now;

	if (!c)
		return;
	/* Pairs with the wakeup's release: the other fields are set. */
	wake = smp_load_acquire(&c->wake);
	/*
	 * Recorded only outside another handler, and while the filter of its
	 * wakeup is in force; the slot is freed anyway.
	 */
	if (wake && cs_enter(CS_P_FIRST_RUN)) {
		now = cs_now();
		if (!cs_filter_changed(c->filter_seq))
			cs_record_first_run(c->class, c->waker_cpu == smp_processor_id(),
					    now > wake ? cs_ns(now - wake) : 0,
					    fatal_signal_pending(current));
		cs_exit(CS_P_FIRST_RUN);
	}
	WRITE_ONCE(c->wake, 0);
	/* The slot is cleared before another wakeup can claim it. */
	smp_store_release(&c->task, NULL);
}

static struct cs_hook first_run_probe = CS_HOOK("schedule_tail", first_run_hook);

static struct kretprobe clone_probe = {
	.entry_handler	= clone_entry,
	.handler	= clone_return,
	.data_size	= sizeof(struct cs_clone_data),
};

/* Without markers, the first of these that can be probed times the mm copy. */
static const char *const mm_symbols[] = { "dup_mmap", "copy_page_range" };
static struct kretprobe mm_probe = {
	.entry_handler	= mm_entry,
	.handler	= mm_return,
	.data_size	= sizeof(struct cs_phase_data),
};

/* How the mm phase is timed. */
static enum { CS_MM_OFF, CS_MM_MARKS, CS_MM_KRETPROBE } mm_how;
static int mm_probe_err;

/* The tracepoints, inner first: the order they are attached in. */
static struct cs_tp {
	const char *name;
	const char *role;
	void *probe;
	struct tracepoint *tp;
} tps[] = {
	{ "sched_wakeup_new", "wakeup", wakeup_new_probe },
	{ "task_newtask", "phase_copy", newtask_probe },
};

static void cs_tps_unregister(unsigned int n)
{
	while (n--)
		cs_tp_unregister(&tps[n].tp, tps[n].probe);
}

static void mm_marks_unregister(unsigned int n)
{
	while (n--)
		cs_hook_unregister(&mm_marks[n]);
}

/*
 * rp, with max_inflight instances, on the first of syms[0..n) (a NULL
 * ends them) that can be probed: 0; -ENOMEM; or the last one's error.
 */
int cs_kretprobe_first(struct kretprobe *rp, const char *const *syms, unsigned int n)
{
	unsigned int i;
	int ret = -ENOENT;

	for (i = 0; i < n && syms[i]; i++) {
		memset(&rp->kp, 0, sizeof(rp->kp));
		rp->kp.symbol_name = syms[i];
		rp->maxactive = cs_max_inflight;
		ret = register_kretprobe(rp);
		if (!ret || ret == -ENOMEM)
			break;
	}
	return ret;
}

/*
 * The markers, else a kretprobe: 0 with one of them on (mm_how); -ENOMEM;
 * or the kretprobe's last error, with the mm phase not timed.
 */
static int register_mm_probe(void)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(mm_marks) && !ret; i++)
		ret = cs_hook_register(&mm_marks[i]);
	if (!ret) {
		mm_how = CS_MM_MARKS;
		return 0;
	}
	/* The one that failed is off: the ones before it are on. */
	mm_marks_unregister(i - 1);
	if (ret == -ENOMEM)
		return ret;
	ret = cs_kretprobe_first(&mm_probe, mm_symbols, ARRAY_SIZE(mm_symbols));
	if (!ret)
		mm_how = CS_MM_KRETPROBE;
	return ret;
}

static void unregister_mm_probe(void)
{
	if (mm_how == CS_MM_MARKS)
		mm_marks_unregister(ARRAY_SIZE(mm_marks));
	else if (mm_how == CS_MM_KRETPROBE)
		unregister_kretprobe(&mm_probe);
	mm_how = CS_MM_OFF;
}

int cs_probes_register(void)
{
	unsigned int i;
	int ret;

	inflight = kvcalloc(cs_max_inflight, sizeof(*inflight), GFP_KERNEL);
	if (!inflight)
		return -ENOMEM;
	children = kvcalloc(cs_max_inflight, sizeof(*children), GFP_KERNEL);
	if (!children) {
		ret = -ENOMEM;
		goto out_free_inflight;
	}
	inflight_mask = cs_max_inflight - 1;

	/*
	 * Inner probes first, so that the clone probe never sees a creation
	 * the phase probes missed the start of, and the wakeup probe never
	 * times a child whose first run it will not see.
	 */
	ret = cs_hook_register(&first_run_probe);
	if (ret < 0) {
		pr_err("cannot probe %s: error %d\n", first_run_probe.kp.symbol_name, ret);
		goto out_free_children;
	}
	for (i = 0; i < ARRAY_SIZE(tps); i++) {
		ret = cs_tp_register(tps[i].name, tps[i].probe, &tps[i].tp);
		if (ret) {
			cs_tps_unregister(i);
			goto out_sync;
		}
	}
	/*
	 * Without an mm probe the phases lack their split: not fatal, unless
	 * an allocation failed.
	 */
	mm_probe_err = register_mm_probe();
	if (mm_probe_err == -ENOMEM) {
		ret = mm_probe_err;
		goto out_unregister_tps;
	}
	if (mm_probe_err)
		pr_warn("no memory-map copy probe (error %d): mm phase not measured\n",
			mm_probe_err);

	clone_probe.kp.symbol_name = clone_symbol;
	/*
	 * Twice the in-flight table: past max_inflight creations at once, a
	 * creation still gets its handlers and counts as drops.inflight,
	 * rather than as a kretprobe miss that would not count it at all.
	 */
	clone_probe.maxactive = 2 * cs_max_inflight;
	ret = register_kretprobe(&clone_probe);
	if (ret < 0) {
		pr_err("cannot probe %s: error %d\n", clone_symbol, ret);
		goto out_unregister_mm;
	}
	return 0;

out_unregister_mm:
	unregister_mm_probe();
out_unregister_tps:
	cs_tps_unregister(ARRAY_SIZE(tps));
out_sync:
	/* No tracepoint probe runs any more when this returns. */
	tracepoint_synchronize_unregister();
	cs_hook_unregister(&first_run_probe);
out_free_children:
	kvfree(children);
out_free_inflight:
	kvfree(inflight);
	return ret;
}

void cs_probes_unregister(void)
{
	/* Outer probe first: no new creation starts being followed. */
	unregister_kretprobe(&clone_probe);
	unregister_mm_probe();
	cs_tps_unregister(ARRAY_SIZE(tps));
	/* unregister_kretprobe() waited for its handlers; this, for the rest. */
	tracepoint_synchronize_unregister();
	cs_hook_unregister(&first_run_probe);
	kvfree(children);
	kvfree(inflight);
}

/* What the probes allocated at load: tables and kretprobe instances. */
size_t cs_probes_memory(void)
{
	size_t n = (size_t)cs_max_inflight * (sizeof(*inflight) + sizeof(*children));

	n += cs_rp_bytes(&clone_probe);
	if (mm_how == CS_MM_KRETPROBE)
		n += cs_rp_bytes(&mm_probe);
	return n + cs_steps_memory();
}

void cs_probes_show(struct seq_file *m)
{
	unsigned int i;

	seq_puts(m, "# probe              role                missed\n");
	seq_printf(m, "%-20s %-19s %6d\n", clone_symbol, "clone",
		   READ_ONCE(clone_probe.nmissed));
	/* Tracepoints and hooks miss nothing. */
	switch (mm_how) {
	case CS_MM_MARKS:
		for (i = ARRAY_SIZE(mm_marks); i--; )
			seq_printf(m, "%-20s %-19s %6s\n", mm_marks[i].kp.symbol_name,
				   "phase_mm", "-");
		break;
	case CS_MM_KRETPROBE:
		seq_printf(m, "%-20s %-19s %6d\n", mm_probe.kp.symbol_name,
			   "phase_mm", READ_ONCE(mm_probe.nmissed));
		break;
	default:
		seq_printf(m, "# no memory-map copy probe: error %d on %s\n",
			   mm_probe_err, mm_symbols[ARRAY_SIZE(mm_symbols) - 1]);
	}
	for (i = ARRAY_SIZE(tps); i--; )
		seq_printf(m, "%-20s %-19s %6s\n", tps[i].name, tps[i].role, "-");
	seq_printf(m, "%-20s %-19s %6s\n", first_run_probe.kp.symbol_name, "first_run", "-");
	if (mm_how == CS_MM_MARKS)
		for (i = ARRAY_SIZE(mm_marks); i--; )
			cs_hook_show(m, &mm_marks[i]);
	cs_hook_show(m, &first_run_probe);
	cs_steps_show(m);
}

void cs_probes_counters(struct seq_file *m)
{
	seq_printf(m, "missed.kernel_clone %d\n", READ_ONCE(clone_probe.nmissed));
	seq_printf(m, "missed.mm_copy %d\n",
		   mm_how == CS_MM_KRETPROBE ? READ_ONCE(mm_probe.nmissed) : 0);
	/* The function timed, or its markers as cow.method names its own. */
	if (mm_how == CS_MM_MARKS)
		seq_printf(m, "mm_copy_probe %s+%s\n", mm_marks[1].kp.symbol_name,
			   mm_marks[0].kp.symbol_name);
	else
		seq_printf(m, "mm_copy_probe %s\n",
			   mm_how == CS_MM_KRETPROBE ? mm_probe.kp.symbol_name : "none");
	cs_steps_counters(m);
}
