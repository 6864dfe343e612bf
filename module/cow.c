// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat COW: write faults on private mappings, whether each copied
 * the page or reused it, and the copies tied back to the fork that made
 * the pages shared.
 *
 *   do_wp_page(vmf)          kretprobe: a write fault on a write-protected
 *                            page; its latency; the outcome, decided below
 *     wp_page_copy(vmf)      hook: the fault copies (5.10, 6.1)
 *       __vmf_anon_prepare(vmf)  hook: ... where wp_page_copy() is inlined
 *                            (6.12, 7.2), its first call
 *     wp_page_reuse(vmf)     hook: the fault reuses (6.1, 6.12, 7.2)
 *   do_huge_pmd_wp_page()    kretprobe: huge-page COW, reused or split
 *   exit_mmap(mm)            hook: an address space dies (exit, exec)
 *
 * Hooks (hook.h) are ftrace callbacks where ftrace can give the argument
 * and the function is traceable, kprobes elsewhere (wp_page_reuse() is
 * inline, so not traceable, on 6.1).
 *
 * Which markers exist differs by kernel (wp_page_copy() is inlined from
 * 6.12 on, wp_page_reuse() before 6.0 and on some configurations): what
 * registers at load is the method, shown in /proc/clonestat.  With one
 * marker, a fault it did not mark had the other outcome; with both, a
 * fault neither marked (userfaultfd, KSM) counts as "other".
 *
 * A marker runs inside the do_wp_page() it marks, in the same task but
 * not always on the same CPU (wp_page_copy() runs after the page table
 * lock is dropped: full preemption, PREEMPT_RT can move it): the
 * do_wp_page() entry leaves a pointer to its data in a table of faults
 * in flight, found by current, and a marker writes the outcome there.
 *
 * Bills: a fork that copies the address space opens a bill keyed by the
 * child's mm (at the child's wakeup, before it can fault), and points the
 * parent's mm at it.  Each COW copy in the child's mm, or in the parent's
 * while its latest child lives, is charged to the bill.  exit_mmap() of
 * the child's mm (its exit, or its exec) closes the bill into per-CPU
 * histograms.  A process both child and parent is charged as the parent
 * of its latest child while that child lives.  Bills are claimed with
 * cmpxchg() and charged with atomics: several CPUs fault in one mm at
 * once.  A parent's pointer carries the bill's generation, so that a
 * closed and reused bill is not charged.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hugetlb_inline.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "clonestat.h"
#include "hook.h"
#include "trace.h"

unsigned int cs_cow_bills = 8192;
module_param_named(cow_bills, cs_cow_bills, uint, 0444);
MODULE_PARM_DESC(cow_bills,
		 "COW bills of live forked children (power of two, 64..1048576; default 8192)");

static bool cs_cow_enabled = true;
module_param_named(cow, cs_cow_enabled, bool, 0444);
MODULE_PARM_DESC(cow, "Follow COW faults (default on)");

struct cs_bill {
	struct mm_struct *mm;		/* the child's; NULL: free */
	struct mm_struct *parent;
	atomic_long_t child_copies;
	atomic_long_t parent_copies;
	unsigned int gen;		/* bumped when the bill closes */
	u8 class;
};

struct cs_parent {
	struct mm_struct *mm;		/* NULL: free */
	unsigned int bill;		/* its latest child's bill ... */
	unsigned int gen;		/* ... and that bill's generation */
};

static struct cs_bill *bills;
static struct cs_parent *parents;
static unsigned int bill_mask;
/*
 * Entries of each table whose hash starts at index i: a fault in an mm
 * that is no one's parent (or child) skips the window scan at one load.
 */
static atomic_t *bill_homes, *parent_homes;

/*
 * Each CPU remembers which bill its latest COW copy went to, by mm: a
 * burst of copies in one address space finds it without the two window
 * searches.  bill_epoch moves on at every bill opened: a cached answer,
 * even "no bill", holds only while it has not moved, since a new bill is
 * the one way for an mm's answer to change but by its bill closing,
 * which the bill's own generation shows.  The price: one atomic
 * increment a fork on a line all CPUs read.
 */
struct cs_bill_cache {
	struct mm_struct *mm;		/* NULL: empty */
	struct cs_bill *bill;		/* NULL: mm had no bill */
	unsigned int gen;		/* the bill's generation then */
	unsigned int epoch;		/* bill_epoch then */
	bool parent;			/* charged as the parent */
};

static DEFINE_PER_CPU(struct cs_bill_cache, bill_cache);
static atomic_t bill_epoch;

struct cs_wp_data {
	struct task_struct *task;
	u64 start;
	unsigned int slot;	/* in wp_slots */
	u8 outcome;
	bool wanted;		/* recorded; else only charged to a bill */
};

/*
 * do_wp_page() calls in flight (max_inflight slots), each found from its
 * task's hash in a window of CS_WINDOW, like the creations in flight.
 */
static struct cs_wp_data **wp_slots;
static unsigned int wp_mask;

static bool cs_cow_latency;
module_param_named(cow_latency, cs_cow_latency, bool, 0444);
MODULE_PARM_DESC(cow_latency,
		 "Time every COW fault, where the markers alone would tell outcomes (default off)");

static bool wp_on, copy_mark_on, reuse_mark_on, thp_on, exit_on;
static bool direct_marks;	/* both markers, no do_wp_page() probe */
static int wp_err;

static struct cs_bill *bill_find(struct mm_struct *mm)
{
	unsigned int h = cs_hash(mm);

	if (!atomic_read(&bill_homes[h & bill_mask]))
		return NULL;
	return cs_window_lookup(bills, sizeof(*bills),
				offsetof(struct cs_bill, mm), bill_mask, h, mm);
}

static struct cs_bill *bill_claim(struct mm_struct *mm)
{
	unsigned int h = cs_hash(mm);
	struct cs_bill *b;

	b = cs_window_claim(bills, sizeof(*bills), offsetof(struct cs_bill, mm),
			    bill_mask, h, mm);
	if (b)
		atomic_inc(&bill_homes[h & bill_mask]);
	return b;
}

static struct cs_parent *parent_find(struct mm_struct *mm)
{
	unsigned int h = cs_hash(mm);

	if (!atomic_read(&parent_homes[h & bill_mask]))
		return NULL;
	return cs_window_lookup(parents, sizeof(*parents),
				offsetof(struct cs_parent, mm), bill_mask, h, mm);
}

/*
 * mm's entry as a parent: the one it has, or a new one.  One scan, as
 * two threads of a process may fork at once: each sees the other's
 * entry, or both go for the same first free one, and the loser takes the
 * winner's when the winner claimed it for mm too.  Never two for one mm.
 */
static struct cs_parent *parent_claim(struct mm_struct *mm)
{
	unsigned int h = cs_hash(mm), i;
	struct cs_parent *free = NULL;
	struct mm_struct *old;

	for (i = 0; i < CS_WINDOW; i++) {
		struct cs_parent *p = &parents[cs_window_idx(h, i, bill_mask)];
		struct mm_struct *key = READ_ONCE(p->mm);

		if (key == mm)
			return p;
		if (!key && !free)
			free = p;
	}
	if (!free)
		return NULL;
	old = cmpxchg_acquire(&free->mm, NULL, mm);
	if (old)
		return old == mm ? free : NULL;
	atomic_inc(&parent_homes[h & bill_mask]);
	return free;
}

/* Called from the wakeup probe, with the child not yet run. */
void cs_cow_bill_open(struct mm_struct *child, struct mm_struct *parent, u8 class)
{
	struct cs_parent *p;
	struct cs_bill *b;

	if (!bills)
		return;
	b = bill_claim(child);
	if (!b) {
		this_cpu_inc(cs_cpu->counters.drops[CS_DROP_BILL]);
		return;
	}
	b->parent = parent;
	b->class = class;
	atomic_long_set(&b->child_copies, 0);
	atomic_long_set(&b->parent_copies, 0);
	p = parent_claim(parent);
	if (p) {
		WRITE_ONCE(p->bill, b - bills);
		WRITE_ONCE(p->gen, READ_ONCE(b->gen));
	}
	/* A CPU that sees the new epoch looks again and sees the bill. */
	smp_wmb();
	atomic_inc(&bill_epoch);
}

/*
 * A COW copy in mm.  A process can be a forked child (its own bill) and a
 * parent (its latest child's bill) at once: the latest sharing is with
 * its live child, so that bill, when open, is charged first.
 */
static void bill_charge(struct mm_struct *mm)
{
	struct cs_bill_cache *bc = this_cpu_ptr(&bill_cache);
	unsigned int epoch = atomic_read(&bill_epoch);
	struct cs_parent *p;
	struct cs_bill *b;

	if (!bills)
		return;
	/* Pairs with the smp_wmb() in cs_cow_bill_open(). */
	smp_rmb();
	if (bc->mm == mm && bc->epoch == epoch) {
		b = bc->bill;
		if (!b)
			return;
		if (READ_ONCE(b->gen) == bc->gen && READ_ONCE(b->mm) &&
		    (bc->parent ? READ_ONCE(b->parent) : READ_ONCE(b->mm)) == mm) {
			atomic_long_inc(bc->parent ? &b->parent_copies : &b->child_copies);
			return;
		}
	}
	bc->mm = mm;
	bc->epoch = epoch;
	p = parent_find(mm);
	if (p) {
		b = &bills[READ_ONCE(p->bill) & bill_mask];
		bc->gen = READ_ONCE(p->gen);
		if (READ_ONCE(b->gen) == bc->gen &&
		    READ_ONCE(b->parent) == mm && READ_ONCE(b->mm)) {
			bc->bill = b;
			bc->parent = true;
			atomic_long_inc(&b->parent_copies);
			return;
		}
	}
	b = bill_find(mm);
	bc->bill = b;
	bc->parent = false;
	if (b) {
		bc->gen = READ_ONCE(b->gen);
		atomic_long_inc(&b->child_copies);
	}
}

/* exit_mmap(struct mm_struct *mm): nobody uses mm any more. */
static void exit_mmap_hook(unsigned long arg0)
{
	struct mm_struct *mm = (void *)arg0;
	struct cs_parent *p;
	struct cs_bill *b;

	if (!bills)
		return;
	b = bill_find(mm);
	if (b) {
		/* Recorded only outside another handler; freed anyway. */
		if (cs_enter(CS_P_EXIT_MMAP)) {
			cs_record_bill(b->class, atomic_long_read(&b->child_copies),
				       atomic_long_read(&b->parent_copies));
			cs_exit(CS_P_EXIT_MMAP);
		}
		WRITE_ONCE(b->gen, b->gen + 1);
		/* The new generation is seen before the bill can be claimed again. */
		smp_store_release(&b->mm, NULL);
		atomic_dec(&bill_homes[cs_hash(mm) & bill_mask]);
	}
	p = parent_find(mm);
	if (p) {
		/* Our reads of the entry complete before it can be claimed again. */
		smp_store_release(&p->mm, NULL);
		atomic_dec(&parent_homes[cs_hash(mm) & bill_mask]);
	}
}

/*
 * A write fault on a private mapping, in the current process: inline in
 * the markers, one call fewer on every fault.
 */
static __always_inline void cs_record_cow(enum cs_cow_outcome outcome, u64 lat, bool timed)
{
	struct cs_cpu *c = this_cpu_ptr(cs_cpu);
	struct cs_task *t;

	trace_cow(outcome, lat, timed);
	this_cpu_inc(cs_cpu->counters.cow[outcome]);
	if (timed) {
		cs_hist(CS_E_cow_latency, 0, lat);
		this_cpu_add(cs_cpu->counters.cow_lat_sum[0], lat);
	}
	if (outcome != CS_COW_COPY && outcome != CS_COW_REUSE)
		return;
	t = cs_task_begin(c, false);
	t->events++;
	if (outcome == CS_COW_COPY)
		t->cow_copies++;
	else
		t->cow_reuses++;
	cs_task_end(t);
}

static bool wp_claim(struct cs_wp_data *d)
{
	unsigned int h = cs_hash(current), i;

	for (i = 0; i < CS_WINDOW; i++) {
		unsigned int k = cs_window_idx(h, i, wp_mask);

		/* Orders d's fields before a marker can find it. */
		if (!READ_ONCE(wp_slots[k]) && !cmpxchg_release(&wp_slots[k], NULL, d)) {
			d->slot = k;
			return true;
		}
	}
	return false;
}

/* The do_wp_page() that current is in, if followed. */
static struct cs_wp_data *wp_find(void)
{
	unsigned int h = cs_hash(current), i;

	for (i = 0; i < CS_WINDOW; i++) {
		struct cs_wp_data *d = READ_ONCE(wp_slots[cs_window_idx(h, i, wp_mask)]);

		if (d && READ_ONCE(d->task) == current)
			return d;
	}
	return NULL;
}

/* do_wp_page(struct vm_fault *vmf) */
static int wp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_fault *vmf = (void *)regs_get_kernel_argument(regs, 0);
	struct cs_wp_data *d = (void *)ri->data;

	/* Shared mappings do not copy on write: not followed. */
	if (vmf->vma->vm_flags & VM_SHARED)
		return 1;
	if (!cs_enter(CS_P_WP_ENTRY))
		return 1;
	/*
	 * A filtered-out task's copies still go to the bill of a fork that
	 * was recorded (the filter names the parent, not its child).
	 */
	switch (cs_ignored()) {
	case CS_IGN_DISABLED:
		cs_exit(CS_P_WP_ENTRY);
		return 1;
	case CS_IGN_FILTER:
		d->wanted = false;
		break;
	default:
		d->wanted = true;
	}
	WRITE_ONCE(d->task, current);
	d->outcome = CS_COW_NONE;
	if (!wp_claim(d)) {
		this_cpu_inc(cs_cpu->counters.drops[CS_DROP_COW]);
		cs_exit(CS_P_WP_ENTRY);
		return 1;
	}
	d->start = cs_now();
	cs_exit(CS_P_WP_ENTRY);
	return 0;
}

static int wp_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cs_wp_data *d = (void *)ri->data;
	enum cs_cow_outcome outcome = d->outcome;
	u64 now;

	/*
	 * A marker that read the slot before its release must not take
	 * this instance, once reused, for its own task's.
	 */
	WRITE_ONCE(d->task, NULL);
	/* d->task is cleared before the slot is seen free. */
	smp_store_release(&wp_slots[d->slot], NULL);
	if (!cs_enter(CS_P_WP_RET))
		return 0;
	now = cs_now();
	if (outcome == CS_COW_NONE) {
		if (copy_mark_on && !reuse_mark_on)
			outcome = CS_COW_REUSE;
		else if (reuse_mark_on && !copy_mark_on)
			outcome = CS_COW_COPY;
		else
			outcome = CS_COW_OTHER;
	}
	if (outcome == CS_COW_COPY && current->mm)
		bill_charge(current->mm);
	if (d->wanted)
		cs_record_cow(outcome, now > d->start ? cs_ns(now - d->start) : 0, true);
	cs_exit(CS_P_WP_RET);
	return 0;
}

/*
 * Both markers alone: each records its outcome itself, and do_wp_page()
 * is not probed (unless cow_latency=1): one probe a fault, not three.
 */
static void wp_mark_direct(enum cs_cow_outcome outcome, struct vm_fault *vmf)
{
	enum cs_ignore why;

	if (vmf->vma->vm_flags & VM_SHARED)
		return;
	why = cs_ignored();
	if (why == CS_IGN_DISABLED)
		return;
	if (outcome == CS_COW_COPY && current->mm)
		bill_charge(current->mm);
	if (why == CS_NR_IGNORES)
		cs_record_cow(outcome, 0, false);
}

/* wp_page_copy(vmf), wp_page_reuse(vmf) */
static __always_inline void wp_mark(enum cs_cow_outcome outcome, unsigned long vmf)
{
	struct cs_wp_data *d;

	if (!cs_enter(CS_P_WP_MARK))
		return;
	if (READ_ONCE(direct_marks)) {
		wp_mark_direct(outcome, (void *)vmf);
	} else {
		/* Only current writes its own fault's outcome. */
		d = wp_find();
		if (d)
			d->outcome = outcome;
	}
	cs_exit(CS_P_WP_MARK);
}

static void copy_mark_hook(unsigned long vmf)
{
	wp_mark(CS_COW_COPY, vmf);
}

static void reuse_mark_hook(unsigned long vmf)
{
	wp_mark(CS_COW_REUSE, vmf);
}

/*
 * __vmf_anon_prepare(vmf): wp_page_copy() calls it first, but so does
 * every fault that puts a new anonymous page where no page was
 * (do_anonymous_page(), do_cow_fault(), huge pages): a copy on write is
 * the one whose pte was present.  hugetlb's own COW is not followed,
 * here as on kernels with a wp_page_copy() to hook.
 */
static void anon_prepare_mark_hook(unsigned long arg)
{
	struct vm_fault *vmf = (void *)arg;

	if (pte_present(vmf->orig_pte) && !is_vm_hugetlb_page(vmf->vma))
		wp_mark(CS_COW_COPY, arg);
}

/* do_huge_pmd_wp_page(struct vm_fault *vmf) */
static int thp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_fault *vmf = (void *)regs_get_kernel_argument(regs, 0);

	if (vmf->vma->vm_flags & VM_SHARED)
		return 1;
	/* As do_wp_page()'s: not counted while disabled or filtered out. */
	return cs_ignored() == CS_NR_IGNORES ? 0 : 1;
}

static int thp_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	vm_fault_t ret = (__force vm_fault_t)regs_return_value(regs);

	if (!cs_enter(CS_P_THP_RET))
		return 0;
	/* Fallback: the huge page is split, and the fault retried per page. */
	if (ret & VM_FAULT_FALLBACK)
		this_cpu_inc(cs_cpu->counters.thp_splits[0]);
	else
		this_cpu_inc(cs_cpu->counters.thp_reuses[0]);
	cs_exit(CS_P_THP_RET);
	return 0;
}

static struct kretprobe wp_probe = {
	.kp.symbol_name	= "do_wp_page",
	.entry_handler	= wp_entry,
	.handler	= wp_return,
	.data_size	= sizeof(struct cs_wp_data),
};

/* The copy marker: the first of these that can be hooked. */
static const struct cs_copy_mark {
	const char *symbol;
	void (*handler)(unsigned long vmf);
} copy_marks[] = {
	{ "wp_page_copy", copy_mark_hook },
	{ "__vmf_anon_prepare", anon_prepare_mark_hook },
};

static struct cs_hook copy_mark;
static struct cs_hook reuse_mark = CS_HOOK("wp_page_reuse", reuse_mark_hook);

static struct kretprobe thp_probe = {
	.kp.symbol_name	= "do_huge_pmd_wp_page",
	.entry_handler	= thp_entry,
	.handler	= thp_return,
};

static struct cs_hook exit_mmap_probe = CS_HOOK("exit_mmap", exit_mmap_hook);

/*
 * COW following is best effort: a symbol that cannot be probed on this
 * kernel is reported in /proc/clonestat, and the rest of clonestat works
 * without it.  A failed allocation fails the load.
 *
 * The rule of every register function here: what a handler touches
 * exists before the first hook that can reach it is registered, and is
 * freed only after the last such hook is gone.  The tables come first;
 * exit_mmap() (which only closes bills) before the markers that charge
 * them; the markers before do_wp_page()'s probe, whose return reads
 * copy_mark_on and reuse_mark_on.  direct_marks alone is set after the
 * markers: until then a marker finds no fault in wp_slots and does
 * nothing.  The markers read the do_wp_page() instance data that
 * wp_slots points to, so they are unregistered before that probe, not
 * after.
 */
static void cs_marks_unregister(void)
{
	if (reuse_mark_on)
		cs_hook_unregister(&reuse_mark);
	if (copy_mark_on)
		cs_hook_unregister(&copy_mark);
	copy_mark_on = false;
	reuse_mark_on = false;
}

/* 0 with a copy marker on; -ENOMEM; or the last candidate's error. */
static int cs_copy_mark_register(void)
{
	unsigned int i;
	int ret = -ENOENT;

	for (i = 0; i < ARRAY_SIZE(copy_marks); i++) {
		memset(&copy_mark, 0, sizeof(copy_mark));
		copy_mark.kp.symbol_name = copy_marks[i].symbol;
		copy_mark.handler = copy_marks[i].handler;
		ret = cs_hook_register(&copy_mark);
		if (!ret || ret == -ENOMEM)
			return ret;
	}
	return ret;
}

static void cs_bills_free(void)
{
	kvfree(bills);
	kvfree(parents);
	kvfree(bill_homes);
	kvfree(parent_homes);
	bills = NULL;
	parents = NULL;
	bill_homes = NULL;
	parent_homes = NULL;
}

static int cs_bills_alloc(void)
{
	bills = kvcalloc(cs_cow_bills, sizeof(*bills), GFP_KERNEL);
	parents = kvcalloc(cs_cow_bills, sizeof(*parents), GFP_KERNEL);
	bill_homes = kvcalloc(cs_cow_bills, sizeof(*bill_homes), GFP_KERNEL);
	parent_homes = kvcalloc(cs_cow_bills, sizeof(*parent_homes), GFP_KERNEL);
	if (!bills || !parents || !bill_homes || !parent_homes) {
		cs_bills_free();
		return -ENOMEM;
	}
	bill_mask = cs_cow_bills - 1;
	return 0;
}

/*
 * The tables first, then exit_mmap(), which closes bills, then the hooks
 * that open and charge them.  On -ENOMEM, the ladder below undoes what
 * is on in the order of cs_cow_unregister(); any other error leaves the
 * part that failed off and says so.
 */
int cs_cow_register(void)
{
	int ret;

	if (!cs_cow_enabled)
		return 0;
	wp_slots = kvcalloc(cs_max_inflight, sizeof(*wp_slots), GFP_KERNEL);
	if (!wp_slots)
		return -ENOMEM;
	wp_mask = cs_max_inflight - 1;
	ret = cs_bills_alloc();
	if (ret)
		goto out_free_slots;
	/* Bills close at exit_mmap(): without it, none opens. */
	ret = cs_hook_register(&exit_mmap_probe);
	if (ret == -ENOMEM)
		goto out_free_bills;
	exit_on = !ret;
	if (!exit_on) {
		pr_warn("cannot probe %s (error %d): COW bills off\n",
			exit_mmap_probe.kp.symbol_name, ret);
		/* No hook is registered yet that could reach them. */
		cs_bills_free();
	}

	ret = cs_copy_mark_register();
	if (ret == -ENOMEM)
		goto out_exit_mmap;
	copy_mark_on = !ret;
	ret = cs_hook_register(&reuse_mark);
	if (ret == -ENOMEM)
		goto out_marks;
	reuse_mark_on = !ret;
	if (copy_mark_on && reuse_mark_on && !cs_cow_latency) {
		WRITE_ONCE(direct_marks, true);
	} else if (copy_mark_on || reuse_mark_on) {
		wp_probe.maxactive = cs_max_inflight;
		wp_err = register_kretprobe(&wp_probe);
		if (wp_err == -ENOMEM)
			goto out_marks;
		wp_on = !wp_err;
	} else {
		wp_err = -ENOENT;
	}
	if (!wp_on && !direct_marks) {
		pr_warn("cannot follow COW faults (error %d): no do_wp_page, or neither wp_page_copy nor wp_page_reuse\n",
			wp_err);
		/* Bills only where copies are seen to charge them. */
		cs_cow_unregister();
	}
	thp_probe.maxactive = cs_max_inflight;
	ret = register_kretprobe(&thp_probe);
	if (ret == -ENOMEM)
		goto out_wp;
	thp_on = !ret;
	return 0;

out_wp:
	WRITE_ONCE(direct_marks, false);
	cs_marks_unregister();
	if (wp_on)
		unregister_kretprobe(&wp_probe);
	wp_on = false;
out_marks:
	cs_marks_unregister();
out_exit_mmap:
	if (exit_on)
		cs_hook_unregister(&exit_mmap_probe);
	exit_on = false;
out_free_bills:
	cs_bills_free();
out_free_slots:
	kvfree(wp_slots);
	wp_slots = NULL;
	return -ENOMEM;
}

void cs_cow_unregister(void)
{
	/*
	 * The reverse of cs_cow_register(), but for the markers: they go
	 * before do_wp_page()'s probe, since wp_slots points into its
	 * instances, which its unregistering frees.  A fault in flight at
	 * the unregistering leaves its slot set, unread from then on.  The
	 * tables go last.
	 */
	if (thp_on)
		unregister_kretprobe(&thp_probe);
	thp_on = false;
	WRITE_ONCE(direct_marks, false);
	cs_marks_unregister();
	if (wp_on)
		unregister_kretprobe(&wp_probe);
	wp_on = false;
	if (exit_on)
		cs_hook_unregister(&exit_mmap_probe);
	exit_on = false;
	cs_bills_free();
	kvfree(wp_slots);
	wp_slots = NULL;
}

/* do_wp_page, if probed, and the markers on, joined by '+'. */
static void cs_cow_method(struct seq_file *m)
{
	const char *sep = "";

	if (!wp_on && !direct_marks) {
		seq_puts(m, "none");
		return;
	}
	if (wp_on) {
		seq_puts(m, wp_probe.kp.symbol_name);
		sep = "+";
	}
	if (copy_mark_on) {
		seq_printf(m, "%s%s", sep, copy_mark.kp.symbol_name);
		sep = "+";
	}
	if (reuse_mark_on)
		seq_printf(m, "%s%s", sep, reuse_mark.kp.symbol_name);
}

static unsigned int cs_bills_open(void)
{
	unsigned int i, n = 0;

	for (i = 0; bills && i < cs_cow_bills; i++)
		if (READ_ONCE(bills[i].mm))
			n++;
	return n;
}

/* What COW following allocated at load: bills, fault slots, kretprobe instances. */
size_t cs_cow_memory(void)
{
	size_t n = bills ? (size_t)cs_cow_bills * (sizeof(*bills) + sizeof(*parents) +
						   2 * sizeof(*bill_homes)) : 0;

	if (wp_slots)
		n += (size_t)cs_max_inflight * sizeof(*wp_slots);
	if (wp_on)
		n += cs_rp_bytes(&wp_probe);
	if (thp_on)
		n += cs_rp_bytes(&thp_probe);
	return n;
}

void cs_cow_show(struct seq_file *m)
{
	seq_puts(m, "# method ");
	cs_cow_method(m);
	seq_putc(m, '\n');
	if (!cs_cow_enabled)
		seq_puts(m, "# COW following is off: module parameter cow=0\n");
	else if (!wp_on && !direct_marks)
		seq_printf(m, "# COW faults not followed: error %d (see the kernel log)\n",
			   wp_err);
	if (direct_marks)
		seq_puts(m, "# COW faults untimed: cow_latency=1 times them (costs more)\n");
	if ((wp_on || direct_marks) && !exit_on)
		seq_puts(m, "# no COW bills: exit_mmap cannot be probed\n");
	if (cs_cow_enabled && !thp_on)
		seq_puts(m, "# no huge-page COW: do_huge_pmd_wp_page cannot be probed (no THP?)\n");
	cs_hook_show(m, &copy_mark);
	cs_hook_show(m, &reuse_mark);
	cs_hook_show(m, &exit_mmap_probe);
}

void cs_cow_counters(struct seq_file *m)
{
	seq_puts(m, "cow.method ");
	cs_cow_method(m);
	seq_putc(m, '\n');
	seq_printf(m, "cow.bills_open %u\n", cs_bills_open());
	seq_printf(m, "cow.bills_capacity %u\n", bills ? cs_cow_bills : 0);
	seq_printf(m, "missed.do_wp_page %d\n", wp_on ? READ_ONCE(wp_probe.nmissed) : 0);
}
