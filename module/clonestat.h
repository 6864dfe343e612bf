/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clonestat: shared definitions of the probes, the per-CPU buffers and the
 * /proc reader.
 */
#ifndef _CLONESTAT_H
#define _CLONESTAT_H

#include <linux/errno.h>
#include <linux/hash.h>
#include <linux/jump_label.h>
#include <linux/kprobes.h>
#include <linux/math64.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seqlock.h>
#include <linux/signal.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/types.h>

#include "compat.h"

#define CLONESTAT_FORMAT_VERSION	1

struct file;
struct pid_namespace;
struct seq_file;

/* The enums of the lists in lists.h. */
#define CS_CLASS(id, name)	CS_##id,
enum cs_class {
#include "lists.h"
	CS_NR_CLASSES
};

#define CS_PHASE(id, name)	CS_##id,
enum cs_phase {
#include "lists.h"
	CS_NR_PHASES
};

#define CS_DROP(id, name)	CS_##id,
enum cs_drop {
#include "lists.h"
	CS_NR_DROPS
};

#define CS_IGNORE(id, name)	CS_##id,
enum cs_ignore {
#include "lists.h"
	CS_NR_IGNORES
};

#define CS_PROBE(id, name)	CS_##id,
enum cs_probe_id {
#include "lists.h"
	CS_NR_PROBES
};

#define CS_COW_OUTCOME(id, name, event)	CS_##id,
enum cs_cow_outcome {
#include "lists.h"
	CS_NR_COW
};

#define CS_STEP(id, name)	CS_##id,
enum cs_step {
#include "lists.h"
	CS_NR_STEPS
};

#define CS_NR_BUCKETS		48	/* log2 buckets: [2^(i-1), 2^i) */
#define CS_NR_SIZES		40	/* log2 buckets of the parent's mapped KiB */
#define CS_NR_ERRNO		(EHWPOISON + 1)	/* errnos counted by name; above: errno 0 */
#define CS_NR_FLAGS		64
#define CS_NR_SIGNALS		(_NSIG + 1)	/* exit signals 0.._NSIG */

/* A process, as the per-task table keys it: tgid and its start time. */
struct cs_task {
	seqcount_t seq;		/* odd while its CPU rewrites the entry */
	unsigned int gen;	/* cs_gen when written: older is a free entry */
	pid_t tgid;		/* 0: a free entry; in the initial pid namespace */
	u64 start;		/* the group leader's start_time */
	char comm[TASK_COMM_LEN];
	u32 calls[CS_NR_CLASSES];
	u32 events;		/* creations and COW faults: the row's activity */
	u64 lat_sum;
	u64 lat_max;
	u64 cow_copies;		/* COW copies in this process */
	u64 cow_reuses;
};

/* One of the slowest creations seen. */
struct cs_worst {
	seqcount_t seq;
	unsigned int gen;	/* as in cs_task */
	u64 lat;		/* 0: a free entry */
	u64 start;		/* the creating process's start_time */
	u64 child_start;	/* the child's start_time */
	u64 phase[CS_NR_PHASES];
	u64 flags;
	u64 parent_kib;
	pid_t pid;		/* the child, 0 if none was created */
	pid_t tgid;		/* the creating process (initial namespace) */
	int result;		/* 0 or -errno */
	u8 class;
	char comm[TASK_COMM_LEN];
};

/* The dimensions of the counters table (lists.h): sizes, and ids. */
#define CS_N_ONE	1
#define CS_N_CLASS	CS_NR_CLASSES
#define CS_N_PHASE	CS_NR_PHASES
#define CS_N_DROP	CS_NR_DROPS
#define CS_N_IGNORE	CS_NR_IGNORES
#define CS_N_COW	CS_NR_COW
#define CS_N_FLAG	CS_NR_FLAGS
#define CS_N_SIGNAL	CS_NR_SIGNALS
#define CS_N_ERRNO	CS_NR_ERRNO
#define CS_N_SIZE	CS_NR_SIZES
#define CS_N_SIDE	2		/* first run: on the waking CPU, or not */
#define CS_N_PROBE	CS_NR_PROBES
#define CS_N_STEP	CS_NR_STEPS

enum cs_dim {
	CS_D_ONE, CS_D_CLASS, CS_D_PHASE, CS_D_DROP, CS_D_IGNORE, CS_D_COW,
	CS_D_FLAG, CS_D_SIGNAL, CS_D_ERRNO, CS_D_SIZE, CS_D_SIDE, CS_D_PROBE,
	CS_D_STEP, CS_NR_DIMS
};

enum cs_merge { CS_SUM, CS_MAX };
enum cs_show { CS_SHOW_ALL, CS_SHOW_NONZERO, CS_SHOW_NONE };

/* The entries of the counters table. */
#define CS_COUNTER(id, ...)	CS_E_##id,
#define CS_HIST(id, ...)	CS_E_##id,
enum cs_entry {
#include "lists.h"
	CS_NR_ENTRIES
};

/*
 * The counters of one CPU, the table's CS_COUNTER() lines in its order.
 * Written only with this_cpu_*(), in place; read with READ_ONCE().
 */
#define CS_COUNTER(id, o, i, ...)	id[CS_N_##o * CS_N_##i],
struct cs_counters {
	u64
#include "lists.h"
	end[0];
};

/* An entry of the counters table, as stats.c and proc.c use it. */
struct cs_entry_desc {
	const char *name;
	const char *unit;		/* a histogram's values'; NULL: a counter */
	unsigned int off;		/* a counter's first word in its struct */
	unsigned int words;
	u8 outer, inner;		/* enum cs_dim */
	u8 merge;			/* enum cs_merge */
	u8 show;			/* enum cs_show */
};

extern const struct cs_entry_desc cs_entries[CS_NR_ENTRIES];

/*
 * Per CPU: the counters, in struct cs_cpu (one allocation), and each
 * histogram, an allocation each: the build checks each against
 * CS_ENTRY_MAX_BYTES, far below alloc_percpu()'s limit (32 KiB),
 * whatever the table grows to.
 */
#define CS_ENTRY_MAX_BYTES	(16 * 1024)

extern u64 __percpu *cs_hists[CS_NR_ENTRIES];	/* NULL for a counter */

/* Keep the larger of a counter's word and v. */
static __always_inline void cs_max(u64 __percpu *word, u64 v)
{
	if (v > this_cpu_read(*word))
		this_cpu_write(*word, v);
}

static inline unsigned int cs_log2_bucket(u64 v, unsigned int nr)
{
	unsigned int b = v ? fls64(v) : 0;

	return b < nr ? b : nr - 1;
}

/* One value v into histogram e's row (o * CS_N_INNER + i). */
static __always_inline void cs_hist(enum cs_entry e, unsigned int row, u64 v)
{
	this_cpu_inc(cs_hists[e][row * CS_NR_BUCKETS + cs_log2_bucket(v, CS_NR_BUCKETS)]);
}

/*
 * What one CPU keeps but its histograms: its state, its counters, and
 * where its tables are.  Only that CPU writes it, from a probe handler,
 * with preemption disabled; readers on any CPU copy it.  A reset (cs_gen
 * moves on) is done by the CPU itself at its next handler
 * (cs_cpu_reset()): it zeroes the CPU's histograms and the fields from
 * worst_floor on, the counters among them; until then readers take the
 * CPU's counters as zero.  The counters share the allocation so that a
 * handler reaches them and the rest from one per-CPU base.
 */
struct cs_cpu {
	int nest;			/* clonestat handlers running here */
	unsigned int gen;		/* the cs_gen these counters count */
	u64 sample_start;
	struct cs_task *tasks;		/* cs_task_slots entries */
	struct cs_worst *worst;		/* cs_worst_slots entries */
	struct cs_task *last_task;	/* the row of the latest event */
	/* Zeroed by a reset from here on. */
	u64 worst_floor;		/* below this, not among the slowest */
	struct cs_counters counters;
};

extern struct cs_cpu __percpu *cs_cpu;
extern unsigned int cs_task_slots;
extern unsigned int cs_worst_slots;

/* A finished creation, as the probes hand it to the per-CPU buffers. */
struct cs_record {
	u64 flags;
	u64 lat;
	u64 phase[CS_NR_PHASES];
	u64 vfork_blocked;	/* CLONE_VFORK: wakeup to return */
	u64 parent_kib;		/* the parent's mapped memory, 0: no mm */
	u64 child_start;	/* the child's start_time */
	pid_t child;
	int result;
	int exit_signal;
	u8 class;
	bool has_size;		/* the mm was copied: count against size */
	bool untimed;		/* no latency: made by copy_process() alone */
};

/*
 * The current process's row in this CPU's table, made if missing (a full
 * window evicts the least active row), with its seqcount open for
 * writing: close it with cs_task_end().  The row of this CPU's latest
 * event is tried first, inline: a burst of faults hits it; the window
 * search is cs_task_find() (stats.c).
 */
struct cs_task *cs_task_find(struct cs_cpu *c, bool name);

/*
 * The name as of the latest creation (exec changes it), or as the row was
 * made.  The leader may rename itself meanwhile: a torn name at worst.
 */
static __always_inline void cs_task_name(struct cs_task *t, const struct task_struct *leader)
{
	memcpy(t->comm, leader->comm, sizeof(t->comm));
	t->comm[sizeof(t->comm) - 1] = '\0';
}

static __always_inline struct cs_task *cs_task_begin(struct cs_cpu *c, bool name)
{
	struct task_struct *leader = current->group_leader;
	struct cs_task *t = c->last_task;

	if (t->gen != c->gen || t->tgid != task_tgid_nr(current) ||
	    t->start != leader->start_time)
		return cs_task_find(c, name);
	raw_write_seqcount_begin(&t->seq);
	if (name)
		cs_task_name(t, leader);
	return t;
}

static __always_inline void cs_task_end(struct cs_task *t)
{
	raw_write_seqcount_end(&t->seq);
}

/* stats.c: the per-CPU buffers. */
int cs_buffers_alloc(void);
void cs_buffers_free(void);
void cs_record(const struct cs_record *r);
void cs_record_first_run(u8 class, bool same_cpu, u64 lat, bool killed);
void cs_record_bill(u8 class, u64 child_copies, u64 parent_copies);
void cs_cpu_reset(struct cs_cpu *c, unsigned int gen);
size_t cs_buffers_per_cpu(void);

/*
 * control.c: what /proc/clonestat writes change.  cs_gen counts resets;
 * cs_recording is cleared by "disable"; cs_filter, when set, names the
 * tasks whose creations and faults are recorded (RCU: probe handlers
 * run with preemption disabled, a read-side critical section).
 */
struct cs_filter;
extern unsigned int cs_gen;
extern unsigned int cs_filter_seq;
extern bool cs_recording;
extern struct cs_filter __rcu *cs_filter;
bool cs_filter_match(const struct cs_filter *f);
void cs_control_show(struct seq_file *m, struct pid_namespace *ns);
ssize_t cs_control_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos);
void cs_control_exit(void);

/*
 * The clock: one creation's probes run on different CPUs (copy_process()
 * sleeps), so it must agree across CPUs.  The probes read ticks and
 * cs_ns() turns a difference of two into nanoseconds, once per value
 * recorded.  Where the kernel trusts the TSC at load (x86: present, its
 * rate known, not marked unstable: then it keeps time with it and has
 * checked that the CPUs' counters agree), a tick is a TSC cycle: a read
 * is one instruction and a conversion a multiply, where the fast
 * monotonic clock costs some 45 instructions a read (`make profile`).
 * Elsewhere a tick is a nanosecond of ktime_get_mono_fast_ns(): lockless
 * and agreeing across CPUs.  Both are what BPF's bpf_ktime_get_ns() counts
 * from, so bpftrace's numbers compare with these.  The `clock` counter
 * says which.
 */
DECLARE_STATIC_KEY_FALSE(cs_clock_tsc);
extern u32 cs_tsc_mult, cs_tsc_shift;

static __always_inline u64 cs_now(void)
{
	if (static_branch_likely(&cs_clock_tsc))
		return cs_tsc_read();
	return ktime_get_mono_fast_ns();
}

static inline u64 cs_ns(u64 ticks)
{
	if (static_branch_likely(&cs_clock_tsc))
		return mul_u64_u32_shr(ticks, cs_tsc_mult, cs_tsc_shift);
	return ticks;
}

void cs_clock_init(void);
const char *cs_clock_name(void);

/* 2^self_sample - 1: a handler call whose count has these bits 0 is timed. */
extern unsigned long cs_sample_mask;

/*
 * Every handler runs between cs_enter() and cs_exit().  A re-entrancy
 * guard: a clonestat handler interrupted by another (a probe placed on
 * something a handler calls) counts a drop instead of recursing.  Handlers
 * run with preemption disabled, so the CPU cannot change in between.
 * One call in 2^self_sample of each handler is timed (cs_sample_mask).
 */
static __always_inline bool cs_enter(enum cs_probe_id id)
{
	unsigned int gen = READ_ONCE(cs_gen);
	u64 hits;

	if (this_cpu_inc_return(cs_cpu->nest) > 1) {
		this_cpu_dec(cs_cpu->nest);
		this_cpu_inc(cs_cpu->counters.drops[CS_DROP_NESTED]);
		return false;
	}
	if (unlikely(this_cpu_read(cs_cpu->gen) != gen))
		cs_cpu_reset(this_cpu_ptr(cs_cpu), gen);
	hits = this_cpu_inc_return(cs_cpu->counters.probe_hits[id]);
	this_cpu_write(cs_cpu->sample_start,
		       hits & cs_sample_mask ? 0 : cs_now());
	return true;
}

static __always_inline void cs_exit(enum cs_probe_id id)
{
	u64 start = this_cpu_read(cs_cpu->sample_start);

	if (start) {
		this_cpu_add(cs_cpu->counters.probe_ns[id], cs_now() - start);
		this_cpu_inc(cs_cpu->counters.probe_sampled[id]);
	}
	this_cpu_dec(cs_cpu->nest);
}

/*
 * Why the current task's creations and faults are not recorded, or
 * CS_NR_IGNORES when they are: called by the probes where a creation or
 * a fault starts being followed, inside cs_enter()/cs_exit().
 */
static inline enum cs_ignore cs_ignored(void)
{
	const struct cs_filter *f;

	if (!READ_ONCE(cs_recording))
		return CS_IGN_DISABLED;
	f = rcu_dereference_sched(cs_filter);
	if (f && !cs_filter_match(f))
		return CS_IGN_FILTER;
	return CS_NR_IGNORES;
}

/*
 * cs_filter_seq moves on each time the filter is replaced.  A creation
 * followed from one probe to the next is recorded only while the filter
 * it began under is in force: one in flight across a change counts in
 * neither the old filter's numbers nor the new one's.  Read before
 * cs_ignored() (pairs with the smp_wmb() in cs_filter_install()): a
 * handler that reads the new sequence passed the new filter.
 */
static inline unsigned int cs_filter_seq_read(void)
{
	unsigned int seq = READ_ONCE(cs_filter_seq);

	/* The filter after the sequence: see cs_filter_install(). */
	smp_rmb();
	return seq;
}

static inline bool cs_filter_changed(unsigned int seq)
{
	return READ_ONCE(cs_filter_seq) != seq;
}

/* The same for a creation: one not recorded is counted as ignored. */
static inline bool cs_wanted(void)
{
	enum cs_ignore why = cs_ignored();

	if (why == CS_NR_IGNORES)
		return true;
	this_cpu_inc(cs_cpu->counters.ignored[why]);
	return false;
}

/*
 * The shared tables of probe context (creations and children in flight,
 * COW bills and parents, faults in flight) are open-addressed: an entry
 * lives in the window of CS_WINDOW entries that starts at its key's
 * hash, in a table of a power of two entries (mask: the size less one).
 * cs_window_lookup() and cs_window_claim() serve the tables whose key is
 * a pointer member, NULL in a free entry, with one claimer a key: a
 * handler claims a free entry by setting its key with cmpxchg(), owns it
 * until it stores NULL back with release semantics, and finds it again
 * by its key; a full window is the caller's to count.  The faults in
 * flight (cow.c, a table of pointers) and the COW parents (several
 * claimers a key) walk their windows with cs_window_idx(), and so does
 * the per-CPU task table, in windows of CS_TASK_WINDOW rows (stats.c).
 */
#define CS_WINDOW	16
#define CS_TASK_WINDOW	8

static __always_inline unsigned int cs_hash(const void *key)
{
	return hash_ptr(key, 32);
}

/* The index of the i-th entry of the window at hash h. */
static __always_inline unsigned int cs_window_idx(unsigned int h, unsigned int i,
						  unsigned int mask)
{
	return (h + i) & mask;
}

/* The key of entry idx of a table of entries of size bytes, key at off. */
static __always_inline void **cs_window_key(void *table, size_t size, size_t off,
					    unsigned int idx)
{
	return (void **)((char *)table + idx * size + off);
}

/* The entry whose key is key, or NULL. */
static __always_inline void *cs_window_lookup(void *table, size_t size, size_t off,
					      unsigned int mask, unsigned int h,
					      const void *key)
{
	unsigned int i;

	for (i = 0; i < CS_WINDOW; i++) {
		unsigned int idx = cs_window_idx(h, i, mask);

		if (READ_ONCE(*cs_window_key(table, size, off, idx)) == key)
			return (char *)table + idx * size;
	}
	return NULL;
}

/*
 * A free entry, its key now key; NULL for a full window.  Acquire: the
 * claimer's later accesses to the entry are ordered after it won it
 * (pairs with the release that freed it).
 */
static __always_inline void *cs_window_claim(void *table, size_t size, size_t off,
					     unsigned int mask, unsigned int h, void *key)
{
	unsigned int i;

	for (i = 0; i < CS_WINDOW; i++) {
		unsigned int idx = cs_window_idx(h, i, mask);
		void **k = cs_window_key(table, size, off, idx);

		if (!READ_ONCE(*k) && !cmpxchg_acquire(k, NULL, key))
			return (char *)table + idx * size;
	}
	return NULL;
}

/* tp.c: the kernel's tracepoints, attached by name. */
struct tracepoint;
int cs_tp_register(const char *name, void *probe, struct tracepoint **tpp);
void cs_tp_unregister(struct tracepoint **tpp, void *probe);

/* What a kretprobe allocated at registration: its instances. */
static inline size_t cs_rp_bytes(const struct kretprobe *rp)
{
	return (size_t)rp->maxactive * (sizeof(struct kretprobe_instance) + rp->data_size);
}

/* probes.c */
int cs_kretprobe_first(struct kretprobe *rp, const char *const *syms, unsigned int n);
int cs_probes_register(void);
void cs_probes_unregister(void);
void cs_probes_show(struct seq_file *m);
void cs_probes_counters(struct seq_file *m);
size_t cs_probes_memory(void);

/*
 * steps.c: step timing.  The time and calls of each step of one
 * creation, in ticks, kept beside its in-flight slot while step timing
 * is on.
 */
struct cs_steps {
	u64 ticks[CS_NR_STEPS];
	u32 calls[CS_NR_STEPS];
};

extern bool cs_steps_param;
int cs_steps_set(bool on);
void cs_steps_free(void);
struct cs_steps *cs_steps_start(unsigned int slot, unsigned int *seq);
void cs_steps_record(const struct cs_steps *st, unsigned int seq, u8 class,
		     u64 copy, u64 mm);
bool cs_steps_on(void);
void cs_steps_show(struct seq_file *m);
void cs_steps_counters(struct seq_file *m);
size_t cs_steps_memory(void);

/* probes.c, for the step handlers: the current task's creation, or NULL. */
struct cs_steps *cs_steps_current(u64 *start);

/* cow.c */
int cs_cow_register(void);
void cs_cow_unregister(void);
void cs_cow_bill_open(struct mm_struct *child, struct mm_struct *parent, u8 class);
void cs_cow_show(struct seq_file *m);
void cs_cow_counters(struct seq_file *m);
size_t cs_cow_memory(void);

/* proc.c */
#define CS_COMM_TOKEN_LEN	(4 * TASK_COMM_LEN)
const char *cs_comm_token(const char *comm, char *buf);
int cs_proc_create(void);
void cs_proc_remove(void);

extern const char *const cs_class_names[CS_NR_CLASSES];
extern const char *const cs_probe_names[CS_NR_PROBES];
extern const char *const cs_step_names[CS_NR_STEPS];
extern unsigned int cs_max_inflight;
extern unsigned int cs_cow_bills;
extern int cs_read_gid;

#endif /* _CLONESTAT_H */
