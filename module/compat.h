/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clonestat: every difference between the kernels clonestat supports.
 *
 * Differences a distribution could backport are tested by feature: Kbuild
 * compiles a snippet from module/features/ against the kernel's headers
 * and defines HAVE_<NAME> when it builds.  No .c file tests
 * LINUX_VERSION_CODE.
 *
 * Differences that need no shim, because clonestat avoids them:
 * - struct kretprobe_instance lost ->rp and ->task (rethook, 5.19): the
 *   handlers use current, which is the same task at entry and return;
 * - task->state became __state (5.14): never read;
 * - clone3 bits 34-37 (7.2): named by clonestat's own bit table;
 * - copy_process() is static before 6.3 (still in kallsyms: probed by
 *   name); dup_mmap() and wp_page_copy() are inlined on some kernels:
 *   chosen at load time by what registers.
 */
#ifndef _CLONESTAT_COMPAT_H
#define _CLONESTAT_COMPAT_H

#include <linux/cgroup.h>
#include <linux/ftrace.h>
#include <linux/sched.h>
#include <linux/sched/task.h>

/* features/feature_checks.c always builds: without it, no check ran. */
#ifndef HAVE_FEATURE_CHECKS
#error "the Kbuild feature checks did not run: see module/Kbuild"
#endif

/*
 * struct kernel_clone_args: io_thread appeared in 5.12 (Debian's 5.10 has
 * it backported), kthread and idle in 5.19 as ints, user_worker in 6.4;
 * 6.4 made them bit-fields.  A missing member reads as false.
 */
static inline bool cs_args_io_thread(const struct kernel_clone_args *args)
{
#ifdef HAVE_KCA_IO_THREAD
	return args->io_thread;
#else
	return false;
#endif
}

static inline bool cs_args_user_worker(const struct kernel_clone_args *args)
{
#ifdef HAVE_KCA_USER_WORKER
	return args->user_worker;
#else
	return false;
#endif
}

static inline bool cs_args_idle(const struct kernel_clone_args *args)
{
#ifdef HAVE_KCA_IDLE
	return args->idle;
#else
	return false;
#endif
}

/*
 * A kernel thread: args->kthread where it exists; before 5.19,
 * kernel_thread() set nothing to tell, so a clone made by a kernel thread
 * counts (user-mode helpers too).
 */
static inline bool cs_args_kthread(const struct kernel_clone_args *args)
{
#ifdef HAVE_KCA_KTHREAD
	return args->kthread;
#else
	return current->flags & PF_KTHREAD;
#endif
}

/*
 * A task made by copy_process() without kernel_clone(): an io_uring
 * worker (PF_IO_WORKER; on 5.10 io-wq workers are kernel threads made by
 * kernel_clone() from kthreadd, whose slot is found first), a user
 * worker (PF_USER_WORKER, 6.4 on), an idle thread (pid 0: fork_idle()).
 */
static inline bool cs_task_is_direct(const struct task_struct *p)
{
#ifdef PF_USER_WORKER
	if (p->flags & PF_USER_WORKER)
		return true;
#endif
	return p->flags & PF_IO_WORKER || !p->pid;
}

/*
 * The TSC as clonestat's clock (see cs_now()): only where the kernel
 * trusts it at load.  check_tsc_unstable() turns true when the kernel
 * stops keeping time with it (cpufreq without a constant rate, a failed
 * synchronisation check, the clocksource watchdog).
 */
#ifdef CONFIG_X86_TSC
#include <asm/tsc.h>

static inline bool cs_tsc_usable(void)
{
	return boot_cpu_has(X86_FEATURE_TSC) && tsc_khz && !check_tsc_unstable();
}

static inline unsigned int cs_tsc_khz(void)
{
	return tsc_khz;
}

static __always_inline u64 cs_tsc_read(void)
{
	return rdtsc_ordered();
}
#else
static inline bool cs_tsc_usable(void)
{
	return false;
}

static inline unsigned int cs_tsc_khz(void)
{
	return 0;
}

static __always_inline u64 cs_tsc_read(void)
{
	return 0;
}
#endif

/*
 * ftrace gives its callbacks the traced function's arguments, in struct
 * ftrace_regs, where HAVE_FTRACE_ARGS: x86 from 5.11, with
 * CONFIG_DYNAMIC_FTRACE_WITH_ARGS.  ftrace_regs_get_argument() reads one
 * on 6.12 and 7.2; on 6.1, struct ftrace_regs holds a struct pt_regs.
 * Elsewhere hooks are kprobes: 5.10's callbacks get a struct pt_regs, and
 * 5.10 exports no ftrace_free_filter(); without CONFIG_FUNCTION_TRACER
 * there is no struct ftrace_ops.
 *
 * CS_FTRACE_OPS(fn), at file scope: a static ftrace_ops calling fn; NULL
 * without HAVE_FTRACE_ARGS (fn unused), so that code which tests it
 * first compiles away.
 */
#ifdef HAVE_FTRACE_ARGS
#define CS_FTRACE_OPS(fn)	(&(struct ftrace_ops){ .func = (fn) })

static __always_inline unsigned long cs_fregs_arg0(struct ftrace_regs *fregs)
{
#ifdef ftrace_regs_get_argument
	return ftrace_regs_get_argument(fregs, 0);
#else
	return regs_get_kernel_argument(&fregs->regs, 0);
#endif
}
#else
struct ftrace_ops;
struct ftrace_regs;

#define CS_FTRACE_OPS(fn)	NULL

static __always_inline unsigned long cs_fregs_arg0(struct ftrace_regs *fregs)
{
	return 0;
}
#endif

/*
 * cgroups exist only with CONFIG_CGROUPS (every Debian kernel has it):
 * without it no task is in one, and no path names one.
 */
#ifdef CONFIG_CGROUPS
/* Whether current is in cgroup id (v2) or below it. */
static inline bool cs_in_cgroup(u64 id)
{
	struct cgroup *cg;

	for (cg = task_dfl_cgroup(current); cg; cg = cgroup_parent(cg))
		if (cgroup_id(cg) == id)
			return true;
	return false;
}

/* The id of the cgroup (v2) at path, as cgroup_get_from_path() finds it. */
static inline int cs_cgroup_path_id(const char *path, u64 *id)
{
	struct cgroup *cg = cgroup_get_from_path(path);

	if (IS_ERR(cg))
		return PTR_ERR(cg);
	*id = cgroup_id(cg);
	cgroup_put(cg);
	return 0;
}
#else
static inline bool cs_in_cgroup(u64 id)
{
	return false;
}

static inline int cs_cgroup_path_id(const char *path, u64 *id)
{
	return -EOPNOTSUPP;
}
#endif

#endif /* _CLONESTAT_COMPAT_H */
