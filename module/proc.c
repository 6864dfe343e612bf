// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/clonestat: the per-CPU buffers, summed and merged when read.
 * Format version CLONESTAT_FORMAT_VERSION, documented in README.md: a
 * person reads the sections, a script the "counters" section at the end.
 */

#include <linux/err.h>
#include <linux/mm.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

#include "clonestat.h"

const char *const cs_class_names[CS_NR_CLASSES] = {
	[CS_FORK] = "fork",
	[CS_VFORK] = "vfork",
	[CS_THREAD] = "thread",
	[CS_SHARED_VM] = "shared_vm",
	[CS_NS] = "namespace",
	[CS_KTHREAD] = "kthread",
	[CS_WORKER] = "worker",
	[CS_OTHER] = "other",
};

static const char *const cs_phase_names[CS_NR_PHASES] = {
	[CS_PH_COPY] = "copy_ns",
	[CS_PH_MM] = "mm_ns",
	[CS_PH_REST] = "rest_ns",
};

static const char *const cs_drop_names[CS_NR_DROPS] = {
	[CS_DROP_NESTED] = "nested",
	[CS_DROP_INFLIGHT] = "inflight",
	[CS_DROP_CHILD] = "child",
	[CS_DROP_BILL] = "bill",
	[CS_DROP_COW] = "cow",
};

static const char *const cs_cow_names[CS_NR_COW] = {
	[CS_COW_NONE] = "none",
	[CS_COW_COPY] = "copies",
	[CS_COW_REUSE] = "reuses",
	[CS_COW_OTHER] = "other",
};

const char *const cs_probe_names[CS_NR_PROBES] = {
	[CS_P_CLONE_ENTRY] = "kernel_clone.entry",
	[CS_P_CLONE_RET] = "kernel_clone.return",
	[CS_P_NEWTASK] = "task_newtask",
	[CS_P_MM_ENTRY] = "mm_copy.entry",
	[CS_P_MM_RET] = "mm_copy.return",
	[CS_P_WAKE] = "sched_wakeup_new",
	[CS_P_FIRST_RUN] = "schedule_tail",
	[CS_P_WP_ENTRY] = "do_wp_page.entry",
	[CS_P_WP_RET] = "do_wp_page.return",
	[CS_P_WP_MARK] = "wp_page_copy/reuse",
	[CS_P_THP_RET] = "do_huge_pmd_wp_page",
	[CS_P_EXIT_MMAP] = "exit_mmap",
};

/* Clone flag names by bit, from include/uapi/linux/sched.h (7.2's). */
static const char *const cs_flag_names[CS_NR_FLAGS] = {
	[7] = "CLONE_NEWTIME",
	[8] = "CLONE_VM",
	[9] = "CLONE_FS",
	[10] = "CLONE_FILES",
	[11] = "CLONE_SIGHAND",
	[12] = "CLONE_PIDFD",
	[13] = "CLONE_PTRACE",
	[14] = "CLONE_VFORK",
	[15] = "CLONE_PARENT",
	[16] = "CLONE_THREAD",
	[17] = "CLONE_NEWNS",
	[18] = "CLONE_SYSVSEM",
	[19] = "CLONE_SETTLS",
	[20] = "CLONE_PARENT_SETTID",
	[21] = "CLONE_CHILD_CLEARTID",
	[22] = "CLONE_DETACHED",
	[23] = "CLONE_UNTRACED",
	[24] = "CLONE_CHILD_SETTID",
	[25] = "CLONE_NEWCGROUP",
	[26] = "CLONE_NEWUTS",
	[27] = "CLONE_NEWIPC",
	[28] = "CLONE_NEWUSER",
	[29] = "CLONE_NEWPID",
	[30] = "CLONE_NEWNET",
	[31] = "CLONE_IO",
	[32] = "CLONE_CLEAR_SIGHAND",
	[33] = "CLONE_INTO_CGROUP",
	[34] = "CLONE_AUTOREAP",
	[35] = "CLONE_NNP",
	[36] = "CLONE_PIDFD_AUTOKILL",
	[37] = "CLONE_EMPTY_MNTNS",
};

/* All CPUs' counters added up (the max fields: the largest). */
struct cs_sum {
	struct cs_cpu c;
	unsigned int gen;		/* the generation read */
	unsigned int nr_entries;	/* task entries of all CPUs, unmerged */
	unsigned int nr_tasks;		/* ... merged: one row a process */
	unsigned int nr_worst;
	unsigned int tasks_hidden;	/* rows the reader's namespace cannot see */
	unsigned int worst_hidden;
	struct pid_namespace *ns;	/* the reader's */
	struct cs_task *tasks;		/* the rows copied */
	struct cs_task **rows;		/* the merged rows, in order */
	struct cs_worst *worst;
};

/* A CPU's counters count since the latest reset once it has zeroed them. */
static bool cs_cpu_current(const struct cs_cpu *c, unsigned int gen)
{
	if (READ_ONCE(c->gen) != gen)
		return false;
	/* Pairs with cs_cpu_reset(): the zeroes before the generation. */
	smp_rmb();
	return true;
}

static void cs_sum_counters(struct cs_cpu *s, unsigned int gen)
{
	unsigned int i, j, k;
	int cpu;

	memset(s, 0, sizeof(*s));
	for_each_possible_cpu(cpu) {
		const struct cs_cpu *c = per_cpu_ptr(cs_cpu, cpu);

		if (!cs_cpu_current(c, gen))
			continue;
		s->calls += READ_ONCE(c->calls);
		s->calls_kthread += READ_ONCE(c->calls_kthread);
		s->ok += READ_ONCE(c->ok);
		s->failed += READ_ONCE(c->failed);
		s->direct += READ_ONCE(c->direct);
		s->task_inserts += READ_ONCE(c->task_inserts);
		s->task_evictions += READ_ONCE(c->task_evictions);
		s->vfork_blocked_sum += READ_ONCE(c->vfork_blocked_sum);
		for (i = 0; i < CS_NR_DROPS; i++)
			s->drops[i] += READ_ONCE(c->drops[i]);
		for (i = 0; i < CS_NR_IGNORES; i++)
			s->ignored[i] += READ_ONCE(c->ignored[i]);
		for (i = 0; i < CS_NR_CLASSES; i++) {
			s->class_calls[i] += READ_ONCE(c->class_calls[i]);
			s->class_failed[i] += READ_ONCE(c->class_failed[i]);
			s->class_untimed[i] += READ_ONCE(c->class_untimed[i]);
			s->class_lat_sum[i] += READ_ONCE(c->class_lat_sum[i]);
			s->class_lat_max[i] = max(s->class_lat_max[i],
						  READ_ONCE(c->class_lat_max[i]));
			for (j = 0; j < CS_NR_PHASES; j++)
				s->class_phase[i][j] += READ_ONCE(c->class_phase[i][j]);
			for (k = 0; k < CS_NR_BUCKETS; k++)
				s->lat_hist[i][k] += READ_ONCE(c->lat_hist[i][k]);
		}
		for (k = 0; k < CS_NR_BUCKETS; k++)
			s->vfork_blocked_hist[k] += READ_ONCE(c->vfork_blocked_hist[k]);
		for (k = 0; k < CS_NR_SIZES; k++) {
			s->size_count[k] += READ_ONCE(c->size_count[k]);
			s->size_lat_sum[k] += READ_ONCE(c->size_lat_sum[k]);
			s->size_lat_max[k] = max(s->size_lat_max[k],
						 READ_ONCE(c->size_lat_max[k]));
		}
		for (k = 0; k < CS_NR_FLAGS; k++)
			s->flag_count[k] += READ_ONCE(c->flag_count[k]);
		for (i = 0; i < CS_NR_CLASSES; i++) {
			for (j = 0; j < 2; j++)
				for (k = 0; k < CS_NR_BUCKETS; k++)
					s->first_run_hist[i][j][k] +=
						READ_ONCE(c->first_run_hist[i][j][k]);
			s->first_run_sum[i] += READ_ONCE(c->first_run_sum[i]);
			s->bills_closed[i] += READ_ONCE(c->bills_closed[i]);
			s->bill_child_copies[i] += READ_ONCE(c->bill_child_copies[i]);
			s->bill_parent_copies[i] += READ_ONCE(c->bill_parent_copies[i]);
			for (k = 0; k < CS_NR_BUCKETS; k++)
				s->bill_hist[i][k] += READ_ONCE(c->bill_hist[i][k]);
		}
		s->first_run_killed += READ_ONCE(c->first_run_killed);
		for (k = 0; k < CS_NR_COW; k++)
			s->cow_count[k] += READ_ONCE(c->cow_count[k]);
		for (k = 0; k < CS_NR_BUCKETS; k++)
			s->cow_hist[k] += READ_ONCE(c->cow_hist[k]);
		s->cow_sum += READ_ONCE(c->cow_sum);
		s->thp_reuse += READ_ONCE(c->thp_reuse);
		s->thp_fallback += READ_ONCE(c->thp_fallback);
		for (k = 0; k < CS_NR_PROBES; k++) {
			s->probe_sampled[k] += READ_ONCE(c->probe_sampled[k]);
			/*
			 * A call counts its hit, then its sample, on its CPU:
			 * read the other way round, a call in between shows
			 * a hit without its sample, never a sample without
			 * its hit (x86 keeps stores in order; elsewhere this
			 * is as approximate as the other counters).
			 */
			smp_rmb();
			s->probe_hits[k] += READ_ONCE(c->probe_hits[k]);
			s->probe_ns[k] += READ_ONCE(c->probe_ns[k]);
		}
		for (k = 0; k < CS_NR_SIGNALS; k++)
			s->signal_count[k] += READ_ONCE(c->signal_count[k]);
		for (k = 0; k < CS_NR_ERRNO; k++)
			s->err_count[k] += READ_ONCE(c->err_count[k]);
	}
}

/* Sorts pointers to rows: a swap moves 8 bytes, not a row's 112. */
static int cs_task_cmp_key(const void *a, const void *b)
{
	const struct cs_task *x = *(const struct cs_task **)a;
	const struct cs_task *y = *(const struct cs_task **)b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* The busiest first: by creations (events, once merged), then by key. */
static int cs_task_cmp_busy(const void *a, const void *b)
{
	const struct cs_task *x = *(const struct cs_task **)a;
	const struct cs_task *y = *(const struct cs_task **)b;

	if (x->events != y->events)
		return x->events > y->events ? -1 : 1;
	return cs_task_cmp_key(a, b);
}

static int cs_worst_cmp(const void *a, const void *b)
{
	const struct cs_worst *x = a, *y = b;

	if (x->lat != y->lat)
		return x->lat > y->lat ? -1 : 1;
	return 0;
}

/*
 * nr, a task's pid in the initial namespace, as ns sees it: 0 when ns
 * cannot see it, or it is gone (its start time tells a reused pid).
 */
static pid_t cs_pid_in_ns(pid_t nr, u64 start, struct pid_namespace *ns)
{
	struct task_struct *t;
	pid_t ret = 0;

	if (ns == &init_pid_ns)
		return nr;
	rcu_read_lock();
	t = pid_task(find_pid_ns(nr, &init_pid_ns), PIDTYPE_PID);
	if (t && t->start_time == start)
		ret = task_pid_nr_ns(t, ns);
	rcu_read_unlock();
	return ret;
}

/*
 * Copy every CPU's task rows, merge the rows of one process, keep those
 * the reader's namespace sees, busiest first: s->rows, pointing into
 * s->tasks.  In a merged row, events is the process's creations.
 */
static int cs_collect_tasks(struct cs_sum *s)
{
	unsigned int slots = num_possible_cpus() * cs_task_slots;
	unsigned int n = 0, i, k, out;
	int cpu;

	s->tasks = kvmalloc_array(slots, sizeof(*s->tasks), GFP_KERNEL);
	s->rows = kvmalloc_array(slots, sizeof(*s->rows), GFP_KERNEL);
	if (!s->tasks || !s->rows)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		const struct cs_cpu *c = per_cpu_ptr(cs_cpu, cpu);

		for (i = 0; i < cs_task_slots; i++) {
			const struct cs_task *e = &c->tasks[i];
			struct cs_task *d = &s->tasks[n];
			unsigned int seq;
			bool used;

			do {
				seq = read_seqcount_begin(&e->seq);
				used = READ_ONCE(e->tgid) && READ_ONCE(e->gen) == s->gen;
				if (used)
					memcpy(d, e, sizeof(*d));
			} while (read_seqcount_retry(&e->seq, seq));
			if (used)
				s->rows[n++] = d;
		}
	}
	s->nr_entries = n;
	sort(s->rows, n, sizeof(*s->rows), cs_task_cmp_key, NULL);
	for (i = 0, out = 0; i < n; i++) {
		struct cs_task *e = s->rows[i], *d;

		if (out && !cs_task_cmp_key(&s->rows[out - 1], &s->rows[i])) {
			d = s->rows[out - 1];
			for (k = 0; k < CS_NR_CLASSES; k++)
				d->calls[k] += e->calls[k];
			d->lat_sum += e->lat_sum;
			d->lat_max = max(d->lat_max, e->lat_max);
			d->cow_copies += e->cow_copies;
			d->cow_reuses += e->cow_reuses;
			continue;
		}
		s->rows[out++] = e;
	}
	/* Rows of processes the reader's namespace sees, in its numbers. */
	for (i = 0, n = out, out = 0; i < n; i++) {
		struct cs_task *e = s->rows[i];

		e->tgid = cs_pid_in_ns(e->tgid, e->start, s->ns);
		if (!e->tgid) {
			s->tasks_hidden++;
			continue;
		}
		for (e->events = 0, k = 0; k < CS_NR_CLASSES; k++)
			e->events += e->calls[k];
		s->rows[out++] = e;
	}
	sort(s->rows, out, sizeof(*s->rows), cs_task_cmp_busy, NULL);
	s->nr_tasks = out;
	return 0;
}

static int cs_collect_worst(struct cs_sum *s)
{
	unsigned int n = 0, i;
	int cpu;

	s->worst = kvmalloc_array(num_possible_cpus() * cs_worst_slots,
				  sizeof(*s->worst), GFP_KERNEL);
	if (!s->worst)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		const struct cs_cpu *c = per_cpu_ptr(cs_cpu, cpu);

		for (i = 0; i < cs_worst_slots; i++) {
			const struct cs_worst *e = &c->worst[i];
			struct cs_worst *d = &s->worst[n];
			unsigned int seq;

			do {
				seq = read_seqcount_begin(&e->seq);
				memcpy(d, e, sizeof(*d));
			} while (read_seqcount_retry(&e->seq, seq));
			if (!d->lat || d->gen != s->gen)
				continue;
			d->tgid = cs_pid_in_ns(d->tgid, d->start, s->ns);
			if (!d->tgid) {
				s->worst_hidden++;
				continue;
			}
			/* 0: no child, or one the reader cannot see. */
			if (d->pid)
				d->pid = cs_pid_in_ns(d->pid, d->child_start, s->ns);
			n++;
		}
	}
	sort(s->worst, n, sizeof(*s->worst), cs_worst_cmp, NULL);
	s->nr_worst = min(n, cs_worst_slots);
	return 0;
}

/*
 * A process name as one word: bytes other than '!'..'~', and the
 * backslash, as \ooo (octal), the way /proc/self/mountinfo shows paths.
 */
const char *cs_comm_token(const char *comm, char *buf)
{
	char *p = buf;
	unsigned int i;

	for (i = 0; i < TASK_COMM_LEN && comm[i]; i++) {
		unsigned char c = comm[i];

		if (c > ' ' && c <= '~' && c != '\\')
			*p++ = c;
		else
			p += sprintf(p, "\\%03o", c);
	}
	*p = '\0';
	return buf;
}

static const char *cs_flag_name(unsigned int bit, char *buf, size_t len)
{
	if (cs_flag_names[bit])
		return cs_flag_names[bit];
	snprintf(buf, len, "bit%u", bit);
	return buf;
}

/* "EINVAL" for 22 (or "22" without CONFIG_SYMBOLIC_ERRNAME). */
static const char *cs_errno_name(unsigned int err, char *buf, size_t len)
{
	if (!err)
		return "other";
	snprintf(buf, len, "%pe", ERR_PTR(-(long)err));
	return buf[0] == '-' ? buf + 1 : buf;
}

static u64 cs_avg(u64 sum, unsigned long n)
{
	return n ? div64_u64(sum, n) : 0;
}

static u64 cs_bucket_lo(unsigned int b)
{
	return b ? 1ULL << (b - 1) : 0;
}

static u64 cs_bucket_hi(unsigned int b)
{
	return b ? (1ULL << b) - 1 : 0;
}

#define CS_BAR_WIDTH	40

/* A log2 histogram as bars, from its first to its last non-empty bucket. */
static void cs_show_hist(struct seq_file *m, const char *title, const char *unit,
			 const unsigned long *hist, unsigned int nr)
{
	unsigned long most = 0;
	int first = -1, last = -1, b;

	for (b = 0; b < nr; b++) {
		if (!hist[b])
			continue;
		if (first < 0)
			first = b;
		last = b;
		most = max(most, hist[b]);
	}
	if (first < 0)
		return;
	seq_printf(m, "\nsection %s\n", title);
	seq_printf(m, "# %-31s %10s  distribution\n", unit, "count");
	for (b = first; b <= last; b++) {
		unsigned int w = most ? div64_u64((u64)hist[b] * CS_BAR_WIDTH, most) : 0;

		if (hist[b] && !w)
			w = 1;
		seq_printf(m, "%15llu .. %-15llu %10lu  |%.*s%*s|\n",
			   cs_bucket_lo(b), cs_bucket_hi(b), hist[b], w,
			   "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@", CS_BAR_WIDTH - w, "");
	}
}

/* Everything clonestat allocated at load, for every possible CPU. */
static size_t cs_memory_total(void)
{
	return cs_buffers_per_cpu() * num_possible_cpus() + cs_probes_memory() +
	       cs_cow_memory();
}

/*
 * v in decimal at p, padded with spaces to width columns: on the left
 * (right-aligned) or, when left is set, on the right; wider when it needs
 * more.  What "%*llu" and "%-*llu" print.  Returns the end.
 */
static char *cs_put_num(char *p, u64 v, unsigned int width, bool left)
{
	char digits[20];
	unsigned int n = 0;

	do {
		digits[n++] = '0' + do_div(v, 10);
	} while (v);
	if (!left)
		for (; width > n; width--)
			*p++ = ' ';
	width = width > n ? width - n : 0;
	while (n)
		*p++ = digits[--n];
	for (; width; width--)
		*p++ = ' ';
	return p;
}

/*
 * A row of the tasks section, as
 * "%-10d %-16s" " %9u" (each class) " %14llu %12llu %10llu %10llu\n"
 * would print it, written whole: with the table full, one seq_printf() a
 * field cost most of a read.
 */
static void cs_show_task(struct seq_file *m, const struct cs_task *t)
{
	/* The pid, the name, a space and 20 digits a number at most, '\n'. */
	char row[10 + 1 + CS_COMM_TOKEN_LEN + (CS_NR_CLASSES + 4) * 21 + 1];
	char *p = row, *comm;
	unsigned int i;

	p = cs_put_num(p, t->tgid, 10, true);
	*p++ = ' ';
	comm = p;
	p += strlen(cs_comm_token(t->comm, comm));
	for (i = p - comm; i < 16; i++)
		*p++ = ' ';
	for (i = 0; i < CS_NR_CLASSES; i++) {
		*p++ = ' ';
		p = cs_put_num(p, t->calls[i], 9, false);
	}
	*p++ = ' ';
	p = cs_put_num(p, t->lat_sum, 14, false);
	*p++ = ' ';
	p = cs_put_num(p, t->lat_max, 12, false);
	*p++ = ' ';
	p = cs_put_num(p, t->cow_copies, 10, false);
	*p++ = ' ';
	p = cs_put_num(p, t->cow_reuses, 10, false);
	*p++ = '\n';
	seq_write(m, row, p - row);
}

static void cs_show_tables(struct seq_file *m, const struct cs_sum *s)
{
	char comm[CS_COMM_TOKEN_LEN];
	const struct cs_cpu *c = &s->c;
	char buf[32], title[32];
	unsigned int i, k;

	seq_puts(m, "\nsection classes\n");
	seq_printf(m, "# %-10s %10s %8s %12s %12s %12s %12s %12s\n", "class",
		   "calls", "failed", "avg_ns", "max_ns", "avg_copy_ns",
		   "avg_mm_ns", "avg_rest_ns");
	for (i = 0; i < CS_NR_CLASSES; i++) {
		unsigned long n = c->class_calls[i];

		seq_printf(m, "%-12s %10lu %8lu %12llu %12llu %12llu %12llu %12llu\n",
			   cs_class_names[i], n, c->class_failed[i],
			   cs_avg(c->class_lat_sum[i], n), c->class_lat_max[i],
			   cs_avg(c->class_phase[i][CS_PH_COPY], n),
			   cs_avg(c->class_phase[i][CS_PH_MM], n),
			   cs_avg(c->class_phase[i][CS_PH_REST], n));
	}

	seq_puts(m, "\nsection flags\n");
	seq_printf(m, "# %-22s %10s\n", "flag", "count");
	for (k = 0; k < CS_NR_FLAGS; k++)
		if (c->flag_count[k])
			seq_printf(m, "%-24s %10lu\n", cs_flag_name(k, buf, sizeof(buf)),
				   c->flag_count[k]);
	seq_puts(m, "\nsection exit_signals\n");
	seq_printf(m, "# %-22s %10s\n", "signal (not SIGCHLD)", "count");
	for (k = 0; k < CS_NR_SIGNALS; k++)
		if (c->signal_count[k])
			seq_printf(m, "%-24u %10lu\n", k, c->signal_count[k]);
	seq_puts(m, "\nsection errors\n");
	seq_printf(m, "# %-22s %10s\n", "errno", "count");
	for (k = 0; k < CS_NR_ERRNO; k++)
		if (c->err_count[k])
			seq_printf(m, "%-24s %10lu\n", cs_errno_name(k, buf, sizeof(buf)),
				   c->err_count[k]);

	for (i = 0; i < CS_NR_CLASSES; i++) {
		snprintf(title, sizeof(title), "latency %s", cs_class_names[i]);
		cs_show_hist(m, title, "ns", c->lat_hist[i], CS_NR_BUCKETS);
	}
	cs_show_hist(m, "vfork_blocked", "ns", c->vfork_blocked_hist, CS_NR_BUCKETS);
	for (i = 0; i < CS_NR_CLASSES; i++) {
		snprintf(title, sizeof(title), "first_run %s same_cpu", cs_class_names[i]);
		cs_show_hist(m, title, "ns", c->first_run_hist[i][0], CS_NR_BUCKETS);
		snprintf(title, sizeof(title), "first_run %s other_cpu", cs_class_names[i]);
		cs_show_hist(m, title, "ns", c->first_run_hist[i][1], CS_NR_BUCKETS);
	}

	seq_puts(m, "\nsection cow\n");
	cs_cow_show(m);
	seq_printf(m, "# %-22s %10s\n", "outcome", "faults");
	for (k = CS_COW_COPY; k < CS_NR_COW; k++)
		seq_printf(m, "%-24s %10lu\n", cs_cow_names[k], c->cow_count[k]);
	seq_printf(m, "%-24s %10lu\n", "thp_reuses", c->thp_reuse);
	seq_printf(m, "%-24s %10lu\n", "thp_splits", c->thp_fallback);
	cs_show_hist(m, "cow_latency", "ns", c->cow_hist, CS_NR_BUCKETS);

	seq_puts(m, "\nsection cow_bills\n");
	seq_printf(m, "# %-10s %10s %14s %14s\n", "class", "forks",
		   "child_copies", "parent_copies");
	for (i = 0; i < CS_NR_CLASSES; i++)
		if (c->bills_closed[i])
			seq_printf(m, "%-12s %10lu %14llu %14llu\n", cs_class_names[i],
				   c->bills_closed[i], c->bill_child_copies[i],
				   c->bill_parent_copies[i]);
	for (i = 0; i < CS_NR_CLASSES; i++) {
		snprintf(title, sizeof(title), "cow_pages_per_fork %s", cs_class_names[i]);
		cs_show_hist(m, title, "pages", c->bill_hist[i], CS_NR_BUCKETS);
	}

	seq_puts(m, "\nsection memory\n");
	seq_printf(m, "# %-22s %12s\n", "what", "bytes");
	seq_printf(m, "%-24s %12zu\n", "per_cpu", cs_buffers_per_cpu());
	seq_printf(m, "%-24s %12u\n", "cpus", num_possible_cpus());
	seq_printf(m, "%-24s %12zu\n", "shared", cs_probes_memory() + cs_cow_memory());
	seq_printf(m, "%-24s %12zu\n", "total", cs_memory_total());

	seq_puts(m, "\nsection self_cost\n");
	seq_printf(m, "# %-22s %12s %10s %10s\n", "handler", "hits", "sampled",
		   "avg_ns");
	for (k = 0; k < CS_NR_PROBES; k++)
		if (c->probe_hits[k])
			seq_printf(m, "%-24s %12lu %10lu %10llu\n", cs_probe_names[k],
				   c->probe_hits[k], c->probe_sampled[k],
				   cs_avg(cs_ns(c->probe_ns[k]), c->probe_sampled[k]));

	seq_puts(m, "\nsection parent_size\n");
	seq_printf(m, "# %-31s %10s %12s %12s\n", "parent_vm_kib", "forks",
		   "avg_ns", "max_ns");
	for (k = 0; k < CS_NR_SIZES; k++)
		if (c->size_count[k])
			seq_printf(m, "%15llu .. %-15llu %10lu %12llu %12llu\n",
				   cs_bucket_lo(k), cs_bucket_hi(k), c->size_count[k],
				   cs_avg(c->size_lat_sum[k], c->size_count[k]),
				   c->size_lat_max[k]);

	seq_puts(m, "\nsection tasks\n");
	seq_printf(m, "# %-8s %-16s", "tgid", "comm");
	for (i = 0; i < CS_NR_CLASSES; i++)
		seq_printf(m, " %9s", cs_class_names[i]);
	seq_printf(m, " %14s %12s %10s %10s\n", "lat_sum_ns", "lat_max_ns",
		   "cow_copies", "cow_reuses");
	for (k = 0; k < s->nr_tasks; k++)
		cs_show_task(m, s->rows[k]);

	seq_puts(m, "\nsection worst\n");
	seq_printf(m, "# %-10s %10s %10s %10s %8s %8s %-16s %-10s %-8s %-18s %13s\n",
		   "lat_ns", "copy_ns", "mm_ns", "rest_ns", "pid", "tgid", "comm",
		   "class", "result", "flags", "parent_kib");
	for (k = 0; k < s->nr_worst; k++) {
		const struct cs_worst *w = &s->worst[k];

		seq_printf(m, "%-12llu %10llu %10llu %10llu %8d %8d %-16s %-10s %-8d %#-18llx %13llu\n",
			   w->lat, w->phase[CS_PH_COPY], w->phase[CS_PH_MM],
			   w->phase[CS_PH_REST], w->pid, w->tgid,
			   cs_comm_token(w->comm, comm),
			   cs_class_names[w->class], w->result, w->flags,
			   w->parent_kib);
	}
}

static void cs_show_counters(struct seq_file *m, const struct cs_sum *s)
{
	const struct cs_cpu *c = &s->c;
	char buf[32];
	unsigned int i, k;

	seq_puts(m, "\nsection counters\n");
	seq_printf(m, "calls %lu\n", c->calls);
	seq_printf(m, "calls_user %lu\n", c->calls - c->calls_kthread);
	seq_printf(m, "calls_kthread %lu\n", c->calls_kthread);
	seq_printf(m, "ok %lu\n", c->ok);
	seq_printf(m, "failed %lu\n", c->failed);
	seq_printf(m, "direct %lu\n", c->direct);
	cs_probes_counters(m);
	seq_printf(m, "clock %s\n", cs_clock_name());
	for (i = 0; i < CS_NR_DROPS; i++)
		seq_printf(m, "drops.%s %lu\n", cs_drop_names[i], c->drops[i]);
	seq_printf(m, "tasks.inserts %lu\n", c->task_inserts);
	seq_printf(m, "tasks.evictions %lu\n", c->task_evictions);
	seq_printf(m, "tasks.entries %u\n", s->nr_entries);
	seq_printf(m, "tasks.rows %u\n", s->nr_tasks);
	seq_printf(m, "tasks.capacity %u\n", num_possible_cpus() * cs_task_slots);
	seq_printf(m, "memory.per_cpu_bytes %zu\n", cs_buffers_per_cpu());
	seq_printf(m, "memory.shared_bytes %zu\n", cs_probes_memory() + cs_cow_memory());
	seq_printf(m, "memory.total_bytes %zu\n", cs_memory_total());
	seq_printf(m, "tasks.hidden %u\n", s->tasks_hidden);
	seq_printf(m, "worst.hidden %u\n", s->worst_hidden);
	seq_printf(m, "ignored.disabled %lu\n", c->ignored[CS_IGN_DISABLED]);
	seq_printf(m, "ignored.filter %lu\n", c->ignored[CS_IGN_FILTER]);
	for (i = 0; i < CS_NR_CLASSES; i++) {
		const char *n = cs_class_names[i];

		seq_printf(m, "class.%s.calls %lu\n", n, c->class_calls[i]);
		seq_printf(m, "class.%s.failed %lu\n", n, c->class_failed[i]);
		seq_printf(m, "class.%s.untimed %lu\n", n, c->class_untimed[i]);
		seq_printf(m, "class.%s.lat_sum_ns %llu\n", n, c->class_lat_sum[i]);
		seq_printf(m, "class.%s.lat_max_ns %llu\n", n, c->class_lat_max[i]);
		for (k = 0; k < CS_NR_PHASES; k++)
			seq_printf(m, "class.%s.%s %llu\n", n, cs_phase_names[k],
				   c->class_phase[i][k]);
	}
	for (k = 0; k < CS_NR_FLAGS; k++)
		if (c->flag_count[k])
			seq_printf(m, "flag.%s %lu\n", cs_flag_name(k, buf, sizeof(buf)),
				   c->flag_count[k]);
	for (k = 0; k < CS_NR_SIGNALS; k++)
		if (c->signal_count[k])
			seq_printf(m, "exit_signal.%u %lu\n", k, c->signal_count[k]);
	for (k = 0; k < CS_NR_ERRNO; k++)
		if (c->err_count[k])
			seq_printf(m, "errno.%s %lu\n", cs_errno_name(k, buf, sizeof(buf)),
				   c->err_count[k]);
	for (i = 0; i < CS_NR_CLASSES; i++)
		for (k = 0; k < CS_NR_BUCKETS; k++)
			if (c->lat_hist[i][k])
				seq_printf(m, "hist.latency.%s.%llu %lu\n", cs_class_names[i],
					   cs_bucket_lo(k), c->lat_hist[i][k]);
	seq_printf(m, "vfork_blocked_sum_ns %llu\n", c->vfork_blocked_sum);
	for (k = 0; k < CS_NR_BUCKETS; k++)
		if (c->vfork_blocked_hist[k])
			seq_printf(m, "hist.vfork_blocked.%llu %lu\n", cs_bucket_lo(k),
				   c->vfork_blocked_hist[k]);
	cs_cow_counters(m);
	for (k = CS_COW_COPY; k < CS_NR_COW; k++)
		seq_printf(m, "cow.%s %lu\n", cs_cow_names[k], c->cow_count[k]);
	seq_printf(m, "cow.thp_reuses %lu\n", c->thp_reuse);
	seq_printf(m, "cow.thp_splits %lu\n", c->thp_fallback);
	seq_printf(m, "cow.lat_sum_ns %llu\n", c->cow_sum);
	for (k = 0; k < CS_NR_BUCKETS; k++)
		if (c->cow_hist[k])
			seq_printf(m, "hist.cow_latency.%llu %lu\n", cs_bucket_lo(k),
				   c->cow_hist[k]);
	seq_printf(m, "first_run.killed %lu\n", c->first_run_killed);
	for (i = 0; i < CS_NR_CLASSES; i++) {
		const char *n = cs_class_names[i];

		seq_printf(m, "first_run.%s.lat_sum_ns %llu\n", n, c->first_run_sum[i]);
		for (k = 0; k < CS_NR_BUCKETS; k++) {
			if (c->first_run_hist[i][0][k])
				seq_printf(m, "hist.first_run.%s.same_cpu.%llu %lu\n", n,
					   cs_bucket_lo(k), c->first_run_hist[i][0][k]);
			if (c->first_run_hist[i][1][k])
				seq_printf(m, "hist.first_run.%s.other_cpu.%llu %lu\n", n,
					   cs_bucket_lo(k), c->first_run_hist[i][1][k]);
		}
		seq_printf(m, "bill.%s.forks %lu\n", n, c->bills_closed[i]);
		seq_printf(m, "bill.%s.child_copies %llu\n", n, c->bill_child_copies[i]);
		seq_printf(m, "bill.%s.parent_copies %llu\n", n, c->bill_parent_copies[i]);
		for (k = 0; k < CS_NR_BUCKETS; k++)
			if (c->bill_hist[i][k])
				seq_printf(m, "hist.cow_pages_per_fork.%s.%llu %lu\n", n,
					   cs_bucket_lo(k), c->bill_hist[i][k]);
	}
	for (k = 0; k < CS_NR_PROBES; k++) {
		if (!c->probe_hits[k])
			continue;
		seq_printf(m, "self.%s.hits %lu\n", cs_probe_names[k], c->probe_hits[k]);
		seq_printf(m, "self.%s.avg_ns %llu\n", cs_probe_names[k],
			   cs_avg(cs_ns(c->probe_ns[k]), c->probe_sampled[k]));
	}
	for (k = 0; k < CS_NR_SIZES; k++) {
		if (!c->size_count[k])
			continue;
		seq_printf(m, "size.%llu.forks %lu\n", cs_bucket_lo(k), c->size_count[k]);
		seq_printf(m, "size.%llu.lat_sum_ns %llu\n", cs_bucket_lo(k),
			   c->size_lat_sum[k]);
		seq_printf(m, "size.%llu.lat_max_ns %llu\n", cs_bucket_lo(k),
			   c->size_lat_max[k]);
	}
}

static int clonestat_show(struct seq_file *m, void *v)
{
	struct cs_sum *s;
	int ret;

	s = kvzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->ns = m->private;
	s->gen = READ_ONCE(cs_gen);
	cs_sum_counters(&s->c, s->gen);
	ret = cs_collect_tasks(s);
	if (!ret)
		ret = cs_collect_worst(s);
	if (ret)
		goto out;

	seq_printf(m, "clonestat version %d\n", CLONESTAT_FORMAT_VERSION);
	seq_puts(m, "# Sums over all CPUs, read without stopping them: approximate while\n"
		    "# tasks are being created, exact when none is.  Fields: README.md.\n");
	cs_control_show(m, s->ns);
	seq_puts(m, "\nsection probes\n");
	cs_probes_show(m);
	cs_show_tables(m, s);
	cs_show_counters(m, s);
out:
	kvfree(s->rows);
	kvfree(s->tasks);
	kvfree(s->worst);
	kvfree(s);
	return ret;
}

static int clonestat_open(struct inode *inode, struct file *file)
{
	/*
	 * Room for the tables, so that show() rarely runs twice: a row of
	 * the tasks section takes 158 bytes with a name of 16 or fewer, a
	 * row of the slowest creations about 135.
	 */
	size_t size = SZ_64K + (size_t)num_possible_cpus() *
		      (cs_task_slots * 192 + cs_worst_slots * 192);
	/* Pids as the opener's pid namespace sees them. */
	struct pid_namespace *ns = get_pid_ns(task_active_pid_ns(current));
	int ret;

	ret = single_open_size(file, clonestat_show, ns, size);
	if (ret)
		put_pid_ns(ns);
	return ret;
}

static int clonestat_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;

	put_pid_ns(m->private);
	return single_release(inode, file);
}

static const struct proc_ops clonestat_proc_ops = {
	.proc_open	= clonestat_open,
	.proc_read	= seq_read,
	.proc_write	= cs_control_write,
	.proc_lseek	= seq_lseek,
	.proc_release	= clonestat_release,
};

static struct proc_dir_entry *clonestat_proc;

int cs_proc_create(void)
{
	/* Root reads and writes; the read group, when set, reads. */
	clonestat_proc = proc_create("clonestat", cs_read_gid < 0 ? 0600 : 0640,
				     NULL, &clonestat_proc_ops);
	if (!clonestat_proc)
		return -ENOMEM;
	if (cs_read_gid >= 0)
		proc_set_user(clonestat_proc, GLOBAL_ROOT_UID,
			      make_kgid(&init_user_ns, cs_read_gid));
	return 0;
}

void cs_proc_remove(void)
{
	proc_remove(clonestat_proc);
}
