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

#define CS_CLASS(id, name)	name,
const char *const cs_class_names[CS_NR_CLASSES] = {
#include "lists.h"
};

#define CS_PROBE(id, name)	name,
const char *const cs_probe_names[CS_NR_PROBES] = {
#include "lists.h"
};

#define CS_PHASE(id, name)	name,
static const char *const cs_phase_names[CS_NR_PHASES] = {
#include "lists.h"
};

#define CS_DROP(id, name)	name,
static const char *const cs_drop_names[CS_NR_DROPS] = {
#include "lists.h"
};

#define CS_IGNORE(id, name)	name,
static const char *const cs_ignore_names[CS_NR_IGNORES] = {
#include "lists.h"
};

/* NULL for CS_COW_NONE: never counted, not printed. */
#define CS_COW_OUTCOME(id, name, event)	name,
static const char *const cs_cow_names[CS_NR_COW] = {
#include "lists.h"
};

#define CS_STEP(id, name)	name,
const char *const cs_step_names[CS_NR_STEPS] = {
#include "lists.h"
};

static const char *const cs_side_names[CS_N_SIDE] = { "same_cpu", "other_cpu" };

static const unsigned int cs_dim_size[CS_NR_DIMS] = {
	[CS_D_ONE] = CS_N_ONE,
	[CS_D_CLASS] = CS_N_CLASS,
	[CS_D_PHASE] = CS_N_PHASE,
	[CS_D_DROP] = CS_N_DROP,
	[CS_D_IGNORE] = CS_N_IGNORE,
	[CS_D_COW] = CS_N_COW,
	[CS_D_FLAG] = CS_N_FLAG,
	[CS_D_SIGNAL] = CS_N_SIGNAL,
	[CS_D_ERRNO] = CS_N_ERRNO,
	[CS_D_SIZE] = CS_N_SIZE,
	[CS_D_SIDE] = CS_N_SIDE,
	[CS_D_PROBE] = CS_N_PROBE,
	[CS_D_STEP] = CS_N_STEP,
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

/* All CPUs' counters added up (the MAX entries: the largest). */
struct cs_sum {
	struct cs_counters c;
	u64 *w[CS_NR_ENTRIES];		/* each entry's words: in c, or a histogram's */
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

static void cs_sum_counters(struct cs_sum *s)
{
	unsigned int e, i;
	int cpu;

	for_each_possible_cpu(cpu) {
		if (!cs_cpu_current(per_cpu_ptr(cs_cpu, cpu), s->gen))
			continue;
		for (e = 0; e < CS_NR_ENTRIES; e++) {
			const struct cs_entry_desc *d = &cs_entries[e];
			/* NULL: a step histogram not allocated yet (all 0). */
			u64 __percpu *h = READ_ONCE(cs_hists[e]);
			const u64 *c = d->unit ? (h ? per_cpu_ptr(h, cpu) : NULL) :
				       (const u64 *)&per_cpu_ptr(cs_cpu, cpu)->counters + d->off;
			u64 *sum = s->w[e];

			if (!c)
				continue;

			/*
			 * A call counts its hit, then its sample, on its CPU:
			 * read the other way round (the table has the samples
			 * first), a call in between shows a hit without its
			 * sample, never a sample without its hit (x86 keeps
			 * stores in order; elsewhere this is as approximate
			 * as the other counters).
			 */
			if (e == CS_E_probe_hits)
				smp_rmb();	/* the samples before the hits */
			for (i = 0; i < d->words; i++) {
				u64 v = READ_ONCE(c[i]);

				sum[i] = d->merge == CS_MAX ? max(sum[i], v) : sum[i] + v;
			}
		}
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
 * An empty name (prctl(PR_SET_NAME, "")) is "-", and a name that is "-"
 * is "\055": a row keeps its columns either way.
 */
const char *cs_comm_token(const char *comm, char *buf)
{
	char *p = buf;
	unsigned int i;

	if (!comm[0])
		return strcpy(buf, "-");
	if (comm[0] == '-' && !comm[1])
		return strcpy(buf, "\\055");
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

static u64 cs_avg(u64 sum, u64 n)
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

/* Element k of dimension d, as names print it; NULL: not printed. */
static const char *cs_dim_name(enum cs_dim d, unsigned int k, char *buf, size_t len)
{
	switch (d) {
	case CS_D_CLASS:
		return cs_class_names[k];
	case CS_D_PHASE:
		return cs_phase_names[k];
	case CS_D_DROP:
		return cs_drop_names[k];
	case CS_D_IGNORE:
		return cs_ignore_names[k];
	case CS_D_COW:
		return cs_cow_names[k];
	case CS_D_FLAG:
		return cs_flag_name(k, buf, len);
	case CS_D_SIGNAL:
		snprintf(buf, len, "%u", k);
		return buf;
	case CS_D_ERRNO:
		return cs_errno_name(k, buf, len);
	case CS_D_SIZE:
		snprintf(buf, len, "%llu", cs_bucket_lo(k));
		return buf;
	case CS_D_SIDE:
		return cs_side_names[k];
	case CS_D_PROBE:
		return cs_probe_names[k];
	case CS_D_STEP:
		return cs_step_names[k];
	default:
		return "";
	}
}

#define CS_NAME_LEN	96

/*
 * Entry d's name for outer element o and inner element i, in buf of
 * CS_NAME_LEN: its NAME with the elements' names for its %s (cut short
 * if it would not fit).  False: not printed.
 */
static bool cs_entry_name(const struct cs_entry_desc *d, unsigned int o, unsigned int i,
			  char *buf)
{
	char ob[32], ib[32], *end = buf + CS_NAME_LEN - 1;
	const char *arg[2], *t, *a;
	unsigned int n = 0, k = 0;

	if (d->outer != CS_D_ONE)
		arg[n++] = cs_dim_name(d->outer, o, ob, sizeof(ob));
	if (d->inner != CS_D_ONE)
		arg[n++] = cs_dim_name(d->inner, i, ib, sizeof(ib));
	for (t = d->name; *t && buf < end; t++) {
		if (t[0] != '%' || t[1] != 's' || k == n) {
			*buf++ = *t;
			continue;
		}
		a = arg[k++];
		if (!a)
			return false;
		while (*a && buf < end)
			*buf++ = *a++;
		t++;
	}
	*buf = '\0';
	return true;
}

/*
 * The words of entry d for outer element o, as the counters section
 * prints them (the table's SHOW).  A histogram's buckets in order, each
 * bucket's inner elements together.
 */
static void cs_show_entry(struct seq_file *m, const struct cs_sum *s,
			  enum cs_entry e, unsigned int o)
{
	const struct cs_entry_desc *d = &cs_entries[e];
	unsigned int ni = cs_dim_size[d->inner], i, b;
	char name[CS_NAME_LEN];
	const u64 *v;

	if (d->show == CS_SHOW_NONE)
		return;
	if (!d->unit) {
		v = &s->w[e][o * ni];
		for (i = 0; i < ni; i++)
			if ((d->show == CS_SHOW_ALL || v[i]) && cs_entry_name(d, o, i, name))
				seq_printf(m, "%s %llu\n", name, v[i]);
		return;
	}
	v = &s->w[e][o * ni * CS_NR_BUCKETS];
	for (b = 0; b < CS_NR_BUCKETS; b++)
		for (i = 0; i < ni; i++)
			if (v[i * CS_NR_BUCKETS + b] && cs_entry_name(d, o, i, name))
				seq_printf(m, "%s.%llu %llu\n", name, cs_bucket_lo(b),
					   v[i * CS_NR_BUCKETS + b]);
}

/*
 * The table's entries [from, to), in the counters section.  A run of
 * entries with one outer dimension (not ONE) prints by its elements.
 */
static void cs_show_entries(struct seq_file *m, const struct cs_sum *s,
			    enum cs_entry from, enum cs_entry to)
{
	unsigned int e = from, end, o, k;

	while (e < to) {
		const struct cs_entry_desc *d = &cs_entries[e];

		for (end = e + 1; d->outer != CS_D_ONE && end < to; end++)
			if (cs_entries[end].outer != d->outer)
				break;
		for (o = 0; o < cs_dim_size[d->outer]; o++) {
			/* A counter that is 0 hides its element's run. */
			if (!d->unit && d->show == CS_SHOW_NONZERO &&
			    d->inner == CS_D_ONE && !s->w[e][o])
				continue;
			for (k = e; k < end; k++)
				cs_show_entry(m, s, k, o);
		}
		e = end;
	}
}

#define CS_BAR_WIDTH	40

/* A log2 histogram as bars, from its first to its last non-empty bucket. */
static void cs_show_hist(struct seq_file *m, const char *title, const char *unit,
			 const u64 *hist, unsigned int nr)
{
	u64 most = 0;
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
		unsigned int w = most ? div64_u64(hist[b] * CS_BAR_WIDTH, most) : 0;

		if (hist[b] && !w)
			w = 1;
		seq_printf(m, "%15llu .. %-15llu %10llu  |%.*s%*s|\n",
			   cs_bucket_lo(b), cs_bucket_hi(b), hist[b], w,
			   "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@", CS_BAR_WIDTH - w, "");
	}
}

/*
 * Every histogram of entry e: "hist.first_run.%s.%s" titles them
 * "first_run fork same_cpu", "first_run fork other_cpu", ...
 */
static void cs_show_hists(struct seq_file *m, const struct cs_sum *s, enum cs_entry e)
{
	const struct cs_entry_desc *d = &cs_entries[e];
	unsigned int no = cs_dim_size[d->outer], ni = cs_dim_size[d->inner];
	char name[CS_NAME_LEN], *title, *p;
	unsigned int o, i;

	for (o = 0; o < no; o++) {
		for (i = 0; i < ni; i++) {
			if (!cs_entry_name(d, o, i, name))
				continue;
			title = name;
			if (str_has_prefix(title, "hist."))
				title += strlen("hist.");
			for (p = title; *p; p++)
				if (*p == '.')
					*p = ' ';
			cs_show_hist(m, title, d->unit,
				     &s->w[e][(o * ni + i) * CS_NR_BUCKETS],
				     CS_NR_BUCKETS);
		}
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

/* The non-zero words of a one-dimension counter, as "name count" rows. */
static void cs_show_list(struct seq_file *m, const struct cs_sum *s, enum cs_entry e)
{
	const struct cs_entry_desc *d = &cs_entries[e];
	const char *name;
	char buf[32];
	unsigned int k;

	for (k = 0; k < cs_dim_size[d->inner]; k++) {
		if (!s->w[e][k])
			continue;
		name = cs_dim_name(d->inner, k, buf, sizeof(buf));
		if (name)
			seq_printf(m, "%-24s %10llu\n", name, s->w[e][k]);
	}
}

/* v as a percentage of total, with one decimal. */
static void cs_put_share(struct seq_file *m, u64 v, u64 total)
{
	u64 pm = total ? div64_u64(v * 1000, total) : 0;

	seq_printf(m, " %5llu.%llu\n", pm / 10, pm % 10);
}

/*
 * Step timing's sections, one a class timed by steps: each step that ran,
 * then the copy and mm phases they add up to.
 */
static void cs_show_steps(struct seq_file *m, const struct cs_sum *s)
{
	unsigned int c, i;

	for (c = 0; c < CS_NR_CLASSES; c++) {
		u64 n = s->c.step_creations[c], total = s->c.step_phase[c];

		if (!n)
			continue;
		seq_printf(m, "\nsection steps %s\n", cs_class_names[c]);
		seq_printf(m, "# %-16s %10s %14s %12s %12s %6s\n", "step", "calls",
			   "sum_ns", "avg_ns", "max_ns", "share");
		for (i = 0; i < CS_NR_STEPS; i++) {
			unsigned int k = c * CS_NR_STEPS + i;

			if (!s->c.step_calls[k])
				continue;
			seq_printf(m, "%-18s %10llu %14llu %12llu %12llu", cs_step_names[i],
				   s->c.step_calls[k], s->c.step_sum[k],
				   cs_avg(s->c.step_sum[k], n), s->c.step_max[k]);
			cs_put_share(m, s->c.step_sum[k], total);
		}
		seq_printf(m, "%-18s %10llu %14llu %12llu %12s", "copy_mm", n, total,
			   cs_avg(total, n), "-");
		cs_put_share(m, total, total);
	}
}

static void cs_show_tables(struct seq_file *m, const struct cs_sum *s)
{
	char comm[CS_COMM_TOKEN_LEN];
	unsigned int i, k;

	seq_puts(m, "\nsection classes\n");
	seq_printf(m, "# %-10s %10s %8s %12s %12s %12s %12s %12s\n", "class",
		   "calls", "failed", "avg_ns", "max_ns", "avg_copy_ns",
		   "avg_mm_ns", "avg_rest_ns");
	for (i = 0; i < CS_NR_CLASSES; i++) {
		u64 n = s->c.class_calls[i];
		const u64 *ph = &s->c.class_phase[i * CS_NR_PHASES];

		seq_printf(m, "%-12s %10llu %8llu %12llu %12llu %12llu %12llu %12llu\n",
			   cs_class_names[i], n, s->c.class_failed[i],
			   cs_avg(s->c.class_lat_sum[i], n), s->c.class_lat_max[i],
			   cs_avg(ph[CS_PH_COPY], n), cs_avg(ph[CS_PH_MM], n),
			   cs_avg(ph[CS_PH_REST], n));
	}

	seq_puts(m, "\nsection flags\n");
	seq_printf(m, "# %-22s %10s\n", "flag", "count");
	cs_show_list(m, s, CS_E_flags);
	seq_puts(m, "\nsection exit_signals\n");
	seq_printf(m, "# %-22s %10s\n", "signal (not SIGCHLD)", "count");
	cs_show_list(m, s, CS_E_exit_signals);
	seq_puts(m, "\nsection errors\n");
	seq_printf(m, "# %-22s %10s\n", "errno", "count");
	cs_show_list(m, s, CS_E_errnos);

	cs_show_hists(m, s, CS_E_latency);
	cs_show_hists(m, s, CS_E_vfork_blocked);
	cs_show_hists(m, s, CS_E_first_run);

	cs_show_steps(m, s);

	seq_puts(m, "\nsection cow\n");
	cs_cow_show(m);
	seq_printf(m, "# %-22s %10s\n", "outcome", "faults");
	for (k = CS_COW_COPY; k < CS_NR_COW; k++)
		seq_printf(m, "%-24s %10llu\n", cs_cow_names[k], s->c.cow[k]);
	seq_printf(m, "%-24s %10llu\n", "thp_reuses", s->c.thp_reuses[0]);
	seq_printf(m, "%-24s %10llu\n", "thp_splits", s->c.thp_splits[0]);
	cs_show_hists(m, s, CS_E_cow_latency);

	seq_puts(m, "\nsection cow_bills\n");
	seq_printf(m, "# %-10s %10s %14s %14s\n", "class", "forks",
		   "child_copies", "parent_copies");
	for (i = 0; i < CS_NR_CLASSES; i++)
		if (s->c.bills[i])
			seq_printf(m, "%-12s %10llu %14llu %14llu\n", cs_class_names[i],
				   s->c.bills[i], s->c.bill_child_copies[i],
				   s->c.bill_parent_copies[i]);
	cs_show_hists(m, s, CS_E_cow_pages);

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
		if (s->c.probe_hits[k])
			seq_printf(m, "%-24s %12llu %10llu %10llu\n", cs_probe_names[k],
				   s->c.probe_hits[k], s->c.probe_sampled[k],
				   cs_avg(cs_ns(s->c.probe_ns[k]),
					  s->c.probe_sampled[k]));

	seq_puts(m, "\nsection parent_size\n");
	seq_printf(m, "# %-31s %10s %12s %12s\n", "parent_vm_kib", "forks",
		   "avg_ns", "max_ns");
	for (k = 0; k < CS_NR_SIZES; k++)
		if (s->c.size_forks[k])
			seq_printf(m, "%15llu .. %-15llu %10llu %12llu %12llu\n",
				   cs_bucket_lo(k), cs_bucket_hi(k), s->c.size_forks[k],
				   cs_avg(s->c.size_lat_sum[k], s->c.size_forks[k]),
				   s->c.size_lat_max[k]);

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

/*
 * The counters section: the table's entries in its order, and between
 * them the values that are not counters (derived, or the reader's).
 */
static void cs_show_counters(struct seq_file *m, const struct cs_sum *s)
{
	unsigned int k;

	seq_puts(m, "\nsection counters\n");
	cs_show_entries(m, s, CS_E_calls, CS_E_calls_kthread);
	seq_printf(m, "calls_user %llu\n", s->c.calls[0] - s->c.calls_kthread[0]);
	cs_show_entries(m, s, CS_E_calls_kthread, CS_E_drops);
	cs_probes_counters(m);
	seq_printf(m, "clock %s\n", cs_clock_name());
	cs_show_entries(m, s, CS_E_drops, CS_E_ignored);
	seq_printf(m, "tasks.entries %u\n", s->nr_entries);
	seq_printf(m, "tasks.rows %u\n", s->nr_tasks);
	seq_printf(m, "tasks.capacity %u\n", num_possible_cpus() * cs_task_slots);
	seq_printf(m, "memory.per_cpu_bytes %zu\n", cs_buffers_per_cpu());
	seq_printf(m, "memory.shared_bytes %zu\n", cs_probes_memory() + cs_cow_memory());
	seq_printf(m, "memory.total_bytes %zu\n", cs_memory_total());
	seq_printf(m, "tasks.hidden %u\n", s->tasks_hidden);
	seq_printf(m, "worst.hidden %u\n", s->worst_hidden);
	cs_show_entries(m, s, CS_E_ignored, CS_E_cow);
	cs_cow_counters(m);
	cs_show_entries(m, s, CS_E_cow, CS_E_size_forks);
	for (k = 0; k < CS_NR_PROBES; k++) {
		if (!s->c.probe_hits[k])
			continue;
		seq_printf(m, "self.%s.hits %llu\n", cs_probe_names[k], s->c.probe_hits[k]);
		seq_printf(m, "self.%s.avg_ns %llu\n", cs_probe_names[k],
			   cs_avg(cs_ns(s->c.probe_ns[k]), s->c.probe_sampled[k]));
	}
	cs_show_entries(m, s, CS_E_size_forks, CS_NR_ENTRIES);
}

static int clonestat_show(struct seq_file *m, void *v)
{
	unsigned int e, n;
	struct cs_sum *s;
	u64 *words;
	int ret;

	s = kvzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	for (e = 0, n = 0; e < CS_NR_ENTRIES; e++)
		if (cs_entries[e].unit)
			n += cs_entries[e].words;
	words = kvcalloc(n, sizeof(*words), GFP_KERNEL);
	if (!words) {
		kvfree(s);
		return -ENOMEM;
	}
	for (e = 0, n = 0; e < CS_NR_ENTRIES; e++) {
		const struct cs_entry_desc *d = &cs_entries[e];

		if (d->unit) {
			s->w[e] = &words[n];
			n += d->words;
		} else {
			s->w[e] = (u64 *)&s->c + d->off;
		}
	}
	s->ns = m->private;
	s->gen = READ_ONCE(cs_gen);
	cs_sum_counters(s);
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
	kvfree(words);
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
