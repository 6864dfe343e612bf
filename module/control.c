// SPDX-License-Identifier: GPL-2.0
/*
 * clonestat control: the words written to /proc/clonestat.
 *
 *   reset                   zero every counter, histogram and table
 *   enable                  record (the state after loading)
 *   disable                 stop recording; the probes stay in place
 *   filter tgid N           record only the processes named so (up to
 *                           CS_MAX_TGIDS; each write adds one)
 *   filter comm NAME        ... only processes whose leader is so named
 *   filter cgroup PATH|ID   ... only tasks in this cgroup (v2) or below
 *   filter clear            remove every filter
 *   steps on|off            time the steps of copy_process() (steps.c)
 *
 * Filters of different kinds must all match.  A write holds one word, with
 * at most one trailing newline, at offset 0; the writer needs
 * CAP_SYS_ADMIN (-EPERM), and anything else fails with -EINVAL (-E2BIG:
 * longer than CS_WRITE_MAX; -ESRCH: no such process; -ENOENT: no such
 * cgroup; -ENOSPC: too many tgids) and changes nothing.
 *
 * Writers serialize on cs_ctl_lock.  The probes read cs_recording and
 * cs_gen with READ_ONCE() and the filter under RCU (their handlers run
 * with preemption disabled); a new filter replaces the old one whole,
 * and moves cs_filter_seq on (clonestat.h, cs_filter_seq_read()).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "clonestat.h"

#define CS_MAX_TGIDS	16
#define CS_WRITE_MAX	4096

struct cs_filter {
	unsigned int nr_tgids;
	struct pid *tgids[CS_MAX_TGIDS];	/* references held */
	char comm[TASK_COMM_LEN];		/* "": any */
	u64 cgroup;				/* 0: any */
};

static DEFINE_MUTEX(cs_ctl_lock);
unsigned int cs_gen;
unsigned int cs_filter_seq;
bool cs_recording = true;
struct cs_filter __rcu *cs_filter;
static unsigned long cs_resets;

/* In probe context, with preemption disabled: no lock, no allocation. */
bool cs_filter_match(const struct cs_filter *f)
{
	unsigned int i;

	if (f->nr_tgids) {
		struct pid *tgid = task_tgid(current);

		for (i = 0; i < f->nr_tgids; i++)
			if (f->tgids[i] == tgid)
				break;
		if (i == f->nr_tgids)
			return false;
	}
	/* The leader may be renaming itself: a torn name fails the match. */
	if (f->comm[0] &&
	    strncmp(current->group_leader->comm, f->comm, TASK_COMM_LEN))
		return false;
	return !f->cgroup || cs_in_cgroup(f->cgroup);
}

static void cs_filter_free(struct cs_filter *f)
{
	unsigned int i;

	if (!f)
		return;
	for (i = 0; i < f->nr_tgids; i++)
		put_pid(f->tgids[i]);
	kfree(f);
}

static struct cs_filter *cs_filter_current(void)
{
	return rcu_dereference_protected(cs_filter, lockdep_is_held(&cs_ctl_lock));
}

/* A copy of the filter in force, to change and install. */
static struct cs_filter *cs_filter_dup(void)
{
	struct cs_filter *old = cs_filter_current(), *f;
	unsigned int i;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	if (old) {
		*f = *old;
		for (i = 0; i < f->nr_tgids; i++)
			get_pid(f->tgids[i]);
	}
	return f;
}

/* Install f (NULL or empty: no filter), and free the old one. */
static void cs_filter_install(struct cs_filter *f)
{
	struct cs_filter *old;

	if (f && !f->nr_tgids && !f->comm[0] && !f->cgroup) {
		kfree(f);
		f = NULL;
	}
	old = rcu_replace_pointer(cs_filter, f, lockdep_is_held(&cs_ctl_lock));
	/* A handler that reads the new sequence reads the new filter. */
	smp_wmb();
	WRITE_ONCE(cs_filter_seq, cs_filter_seq + 1);
	/*
	 * Handlers that may still read the old filter, or the old sequence,
	 * are done after this: their records precede the write's return.
	 */
	synchronize_rcu();
	cs_filter_free(old);
}

static int cs_filter_tgid(struct cs_filter *f, const char *arg)
{
	struct pid *pid;
	unsigned int i;
	int nr, ret;

	ret = kstrtoint(arg, 10, &nr);
	if (ret)
		return ret == -ERANGE ? -EINVAL : ret;
	if (nr <= 0 || nr > PID_MAX_LIMIT)
		return -EINVAL;
	/* The number as the writer's pid namespace sees it. */
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	rcu_read_lock();
	ret = pid_task(pid, PIDTYPE_TGID) ? 0 : -ESRCH;
	rcu_read_unlock();
	if (ret)
		goto out_put;
	for (i = 0; i < f->nr_tgids; i++)
		if (f->tgids[i] == pid)
			goto out_put;	/* already there: nothing changes */
	if (f->nr_tgids == CS_MAX_TGIDS) {
		ret = -ENOSPC;
		goto out_put;
	}
	f->tgids[f->nr_tgids++] = pid;
	return 0;

out_put:
	put_pid(pid);
	return ret;
}

static int cs_filter_comm(struct cs_filter *f, const char *arg)
{
	size_t len = strlen(arg), i;

	if (!len || len >= TASK_COMM_LEN)
		return -EINVAL;
	/* Printable ASCII: what a person types and a test can tell. */
	for (i = 0; i < len; i++)
		if ((unsigned char)arg[i] < ' ' || (unsigned char)arg[i] > '~')
			return -EINVAL;
	strscpy(f->comm, arg, sizeof(f->comm));
	return 0;
}

static int cs_filter_cgroup(struct cs_filter *f, const char *arg)
{
	u64 id;
	int ret;

	if (!IS_ENABLED(CONFIG_CGROUPS))
		return -EOPNOTSUPP;
	/* A path: relative to the writer's cgroup namespace. */
	if (arg[0] == '/')
		return cs_cgroup_path_id(arg, &f->cgroup);
	ret = kstrtou64(arg, 10, &id);
	if (ret || !id)
		return -EINVAL;
	f->cgroup = id;
	return 0;
}

static int cs_filter_write(char *args)
{
	char *kind = strsep(&args, " ");
	int (*set)(struct cs_filter *f, const char *arg);
	struct cs_filter *f;
	int ret;

	if (!strcmp(kind, "clear")) {
		if (args)
			return -EINVAL;
		cs_filter_install(NULL);
		return 0;
	}
	if (!args || !*args)
		return -EINVAL;
	if (!strcmp(kind, "tgid"))
		set = cs_filter_tgid;
	else if (!strcmp(kind, "comm"))
		set = cs_filter_comm;
	else if (!strcmp(kind, "cgroup"))
		set = cs_filter_cgroup;
	else
		return -EINVAL;

	f = cs_filter_dup();
	if (!f)
		return -ENOMEM;
	ret = set(f, args);
	if (ret) {
		cs_filter_free(f);
		return ret;
	}
	cs_filter_install(f);
	return 0;
}

static int cs_control(char *buf)
{
	char *word = strsep(&buf, " ");

	if (!strcmp(word, "filter"))
		return buf ? cs_filter_write(buf) : -EINVAL;
	if (!strcmp(word, "steps")) {
		if (buf && !strcmp(buf, "on"))
			return cs_steps_set(true);
		if (buf && !strcmp(buf, "off"))
			return cs_steps_set(false);
		return -EINVAL;
	}
	if (buf)
		return -EINVAL;		/* trailing words */
	if (!strcmp(word, "reset")) {
		/* Each CPU zeroes its counters at its next handler. */
		WRITE_ONCE(cs_gen, cs_gen + 1);
		cs_resets++;
	} else if (!strcmp(word, "enable")) {
		WRITE_ONCE(cs_recording, true);
	} else if (!strcmp(word, "disable")) {
		WRITE_ONCE(cs_recording, false);
	} else {
		return -EINVAL;
	}
	return 0;
}

ssize_t cs_control_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos)
{
	size_t count = len, shown;
	char *buf, copy[32];
	int ret;

	/* The opener and the writer both: an fd passed on is not enough. */
	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN) ||
	    !capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (*ppos || !len)
		return -EINVAL;
	if (len > CS_WRITE_MAX)
		return -E2BIG;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (buf[len - 1] == '\n')
		buf[--len] = '\0';
	/* For the warning: the parser cuts buf into words. */
	shown = min(len, sizeof(copy));
	memcpy(copy, buf, shown);
	/* An embedded NUL, another line, or nothing at all. */
	if (!len || strlen(buf) != len || strchr(buf, '\n')) {
		ret = -EINVAL;
		goto out;
	}
	mutex_lock(&cs_ctl_lock);
	ret = cs_control(buf);
	mutex_unlock(&cs_ctl_lock);
out:
	if (ret == -EINVAL)
		pr_warn_ratelimited("%s: rejected write \"%*pE\"\n", current->comm,
				    (int)shown, copy);
	kfree(buf);
	return ret ? ret : count;
}

/* The "control" section: the state the writes set, as ns sees it. */
void cs_control_show(struct seq_file *m, struct pid_namespace *ns)
{
	char comm[CS_COMM_TOKEN_LEN];
	const struct cs_filter *f;
	unsigned int i;

	mutex_lock(&cs_ctl_lock);
	f = cs_filter_current();
	seq_puts(m, "\nsection control\n");
	seq_puts(m, "# write one of: reset | enable | disable | filter tgid N |\n"
		    "#   filter comm NAME | filter cgroup PATH|ID | filter clear |\n"
		    "#   steps on | steps off\n");
	seq_printf(m, "recording %d\n", READ_ONCE(cs_recording));
	seq_printf(m, "steps %d\n", cs_steps_on());
	seq_printf(m, "resets %lu\n", cs_resets);
	seq_puts(m, "filter.tgid");
	for (i = 0; f && i < f->nr_tgids; i++) {
		pid_t nr = pid_nr_ns(f->tgids[i], ns);

		/* A process gone, or outside the reader's namespace. */
		if (nr)
			seq_printf(m, " %d", nr);
		else
			seq_puts(m, " ?");
	}
	seq_puts(m, f && f->nr_tgids ? "\n" : " -\n");
	/* No name filter is an empty name: "-". */
	seq_printf(m, "filter.comm %s\n", cs_comm_token(f ? f->comm : "", comm));
	if (f && f->cgroup)
		seq_printf(m, "filter.cgroup %llu\n", f->cgroup);
	else
		seq_puts(m, "filter.cgroup -\n");
	mutex_unlock(&cs_ctl_lock);
}

void cs_control_exit(void)
{
	/* The probes are gone: nobody reads the filter any more. */
	cs_filter_free(rcu_dereference_protected(cs_filter, 1));
	RCU_INIT_POINTER(cs_filter, NULL);
}
