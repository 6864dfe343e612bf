/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clonestat's lists, each written once, here.  No include guard: a file
 * defines the macros of the lists it wants, then includes this one, and
 * gets an expansion of each of them; the lists it did not ask for expand
 * to nothing, and every list macro is undefined at the end.
 *
 * The trace events' names of classes and COW outcomes come from here
 * too, through trace_syms.h, which the build writes with
 * trace_syms.awk: that script reads the CS_CLASS and CS_COW_OUTCOME
 * lines below as they are written, one entry a line.
 */

/*
 * CS_CLASS(ID, NAME): what a task creation is, decided from its clone
 * flags and arguments.  fork: a new process with a copied address space;
 * vfork: CLONE_VFORK (vfork(), posix_spawn()); thread: CLONE_THREAD
 * (pthread_create()); shared_vm: CLONE_VM without CLONE_THREAD or
 * CLONE_VFORK; namespace: any CLONE_NEW*; kthread: a kernel thread (and
 * idle threads); worker: io_uring and user workers (no kernel_clone()
 * call); other: a new process sharing files, fs or sysvsem.
 */
#ifndef CS_CLASS
#define CS_CLASS(id, name)
#endif
CS_CLASS(FORK,		"fork")
CS_CLASS(VFORK,		"vfork")
CS_CLASS(THREAD,	"thread")
CS_CLASS(SHARED_VM,	"shared_vm")
CS_CLASS(NS,		"namespace")
CS_CLASS(KTHREAD,	"kthread")
CS_CLASS(WORKER,	"worker")
CS_CLASS(OTHER,		"other")
#undef CS_CLASS

/*
 * CS_PHASE(ID, NAME): the parts of a creation's latency, which add up to
 * the whole.  copy: copy_process() less the memory-map copy; mm: the
 * memory-map copy; rest: the rest of kernel_clone() up to the wakeup.
 */
#ifndef CS_PHASE
#define CS_PHASE(id, name)
#endif
CS_PHASE(PH_COPY,	"copy_ns")
CS_PHASE(PH_MM,		"mm_ns")
CS_PHASE(PH_REST,	"rest_ns")
#undef CS_PHASE

/*
 * CS_DROP(ID, NAME): what could not be recorded, by cause.  nested: a
 * clonestat probe hit inside another; inflight: no free in-flight slot
 * for a clone; child: no free slot to time a child's first run; bill: no
 * free COW bill for a fork; cow: no free slot to follow a COW fault.
 */
#ifndef CS_DROP
#define CS_DROP(id, name)
#endif
CS_DROP(DROP_NESTED,	"nested")
CS_DROP(DROP_INFLIGHT,	"inflight")
CS_DROP(DROP_CHILD,	"child")
CS_DROP(DROP_BILL,	"bill")
CS_DROP(DROP_COW,	"cow")
#undef CS_DROP

/* CS_IGNORE(ID, NAME): events not recorded on purpose, by reason. */
#ifndef CS_IGNORE
#define CS_IGNORE(id, name)
#endif
CS_IGNORE(IGN_DISABLED,	"disabled")
CS_IGNORE(IGN_FILTER,	"filter")
#undef CS_IGNORE

/* CS_PROBE(ID, NAME): the handlers, for the self-cost sampling. */
#ifndef CS_PROBE
#define CS_PROBE(id, name)
#endif
CS_PROBE(P_CLONE_ENTRY,	"kernel_clone.entry")
CS_PROBE(P_CLONE_RET,	"kernel_clone.return")
CS_PROBE(P_NEWTASK,	"task_newtask")
CS_PROBE(P_MM_ENTRY,	"mm_copy.entry")
CS_PROBE(P_MM_RET,	"mm_copy.return")
CS_PROBE(P_WAKE,	"sched_wakeup_new")
CS_PROBE(P_FIRST_RUN,	"schedule_tail")
CS_PROBE(P_WP_ENTRY,	"do_wp_page.entry")
CS_PROBE(P_WP_RET,	"do_wp_page.return")
CS_PROBE(P_WP_MARK,	"wp_page_copy/reuse")
CS_PROBE(P_THP_RET,	"do_huge_pmd_wp_page")
CS_PROBE(P_EXIT_MMAP,	"exit_mmap")
CS_PROBE(P_STEP_ENTRY,	"steps.entry")
CS_PROBE(P_STEP_RET,	"steps.return")
#undef CS_PROBE

/*
 * CS_STEP(ID, NAME): the steps of copy_process() that step timing times
 * (steps.c), in the order copy_process() takes them.  task: from
 * kernel_clone()'s entry to copy_creds()'s (dup_task_struct(), inlined);
 * mm_vmas: the mm phase less mm_page_tables (copy_page_range() calls);
 * uncovered: the copy phase less its other steps.  With uncovered, the
 * steps of a creation add up to its copy and mm phases.
 */
#ifndef CS_STEP
#define CS_STEP(id, name)
#endif
CS_STEP(ST_TASK,	"task")
CS_STEP(ST_CREDS,	"creds")
CS_STEP(ST_SCHED,	"sched")
CS_STEP(ST_PERF,	"perf")
CS_STEP(ST_AUDIT,	"audit")
CS_STEP(ST_SECURITY,	"security")
CS_STEP(ST_SEMUNDO,	"semundo")
CS_STEP(ST_FILES,	"files")
CS_STEP(ST_FS,		"fs")
CS_STEP(ST_MM_VMAS,	"mm_vmas")
CS_STEP(ST_MM_PAGES,	"mm_page_tables")
CS_STEP(ST_NS,		"namespaces")
CS_STEP(ST_THREAD,	"thread")
CS_STEP(ST_PID,		"pid")
CS_STEP(ST_CGROUP,	"cgroup")
CS_STEP(ST_SCHED_CGROUP, "sched_cgroup")
CS_STEP(ST_UNCOVERED,	"uncovered")
#undef CS_STEP

/*
 * CS_STEP_FN(ID, NAME...): the steps that are functions of their own
 * (CS_ST_ followed by ID), and their functions: the first of the names
 * that can be probed (steps.c).  copy_files() and copy_fs() are inlined
 * on the kernels clonestat supports: dup_fd() and copy_fs_struct() are
 * their work, called when the files or the fs are not shared.
 */
#ifndef CS_STEP_FN
#define CS_STEP_FN(id, ...)
#endif
CS_STEP_FN(CREDS,	"copy_creds")
CS_STEP_FN(SCHED,	"sched_fork")
CS_STEP_FN(PERF,	"perf_event_init_task")
CS_STEP_FN(AUDIT,	"audit_alloc")
CS_STEP_FN(SECURITY,	"security_task_alloc")
CS_STEP_FN(SEMUNDO,	"copy_semundo")
CS_STEP_FN(FILES,	"copy_files", "dup_fd")
CS_STEP_FN(FS,		"copy_fs", "copy_fs_struct")
CS_STEP_FN(MM_PAGES,	"copy_page_range")
CS_STEP_FN(NS,		"copy_namespaces")
CS_STEP_FN(THREAD,	"copy_thread")
CS_STEP_FN(PID,		"alloc_pid")
CS_STEP_FN(CGROUP,	"cgroup_can_fork")
CS_STEP_FN(SCHED_CGROUP, "sched_cgroup_fork")
#undef CS_STEP_FN

/*
 * CS_COW_OUTCOME(ID, NAME, EVENT): what a write fault on a private
 * mapping did; NAME in the counters, EVENT in the cow trace event.
 * none: not known yet (never counted, no name); copies: a new page
 * (copy-on-write); reuses: the page was reused, nobody else had it;
 * other: neither could be told (userfaultfd, KSM...).
 */
#ifndef CS_COW_OUTCOME
#define CS_COW_OUTCOME(id, name, event)
#endif
CS_COW_OUTCOME(COW_NONE,	NULL,		NULL)
CS_COW_OUTCOME(COW_COPY,	"copies",	"copy")
CS_COW_OUTCOME(COW_REUSE,	"reuses",	"reuse")
CS_COW_OUTCOME(COW_OTHER,	"other",	"other")
#undef CS_COW_OUTCOME

/*
 * The counters and histograms: this table is their per-CPU layout (the
 * counters, members of struct cs_counters, in struct cs_cpu's per-CPU
 * allocation; each histogram an allocation of its own), the sum a read
 * makes, and their names in the "counters" section.
 *
 *   CS_COUNTER(ID, OUTER, INNER, MERGE, SHOW, NAME)
 *	OUTER x INNER words, word [o][i] at o * CS_N_INNER + i
 *   CS_HIST(ID, OUTER, INNER, UNIT, NAME)
 *	a log2 histogram of CS_NR_BUCKETS buckets for each OUTER x INNER,
 *	bucket b of [o][i] at (o * CS_N_INNER + i) * CS_NR_BUCKETS + b
 *
 * ID names the entry (CS_E_ followed by ID) and a counter's member of
 * struct cs_counters.  OUTER and INNER are dimensions (ONE,
 * CLASS, PHASE...: their sizes are CS_N_ONE, CS_N_CLASS...).  MERGE is
 * how CPUs' words add up: SUM, or MAX (the largest).  NAME has a %s for
 * OUTER's element (unless ONE), then one for INNER's (unless ONE); a
 * histogram's bucket follows as ".LOW", its lower bound, and only
 * non-zero buckets print.  SHOW: ALL prints every word, NONZERO those
 * that are not 0, NONE none (the code around the table prints it).  A run
 * of consecutive entries with one OUTER (not ONE) prints by its element:
 * the run's words for "fork", then for "vfork"...; when the run's first
 * entry is a NONZERO counter of one word an element, its 0 hides the
 * element's whole run.
 *
 * Adding a counter: one line here, and the code that counts it.
 */
#ifndef CS_COUNTER
#define CS_COUNTER(id, outer, inner, merge, show, name)
#endif
#ifndef CS_HIST
#define CS_HIST(id, outer, inner, unit, name)
#endif
CS_COUNTER(calls,		ONE,	ONE,	SUM, ALL,	"calls")
CS_COUNTER(calls_kthread,	ONE,	ONE,	SUM, ALL,	"calls_kthread")
CS_COUNTER(ok,			ONE,	ONE,	SUM, ALL,	"ok")
CS_COUNTER(failed,		ONE,	ONE,	SUM, ALL,	"failed")
CS_COUNTER(direct,		ONE,	ONE,	SUM, ALL,	"direct")
CS_COUNTER(drops,		ONE,	DROP,	SUM, ALL,	"drops.%s")
CS_COUNTER(task_inserts,	ONE,	ONE,	SUM, ALL,	"tasks.inserts")
CS_COUNTER(task_evictions,	ONE,	ONE,	SUM, ALL,	"tasks.evictions")
CS_COUNTER(ignored,		ONE,	IGNORE,	SUM, ALL,	"ignored.%s")
CS_COUNTER(class_calls,		CLASS,	ONE,	SUM, ALL,	"class.%s.calls")
CS_COUNTER(class_failed,	CLASS,	ONE,	SUM, ALL,	"class.%s.failed")
CS_COUNTER(class_untimed,	CLASS,	ONE,	SUM, ALL,	"class.%s.untimed")
CS_COUNTER(class_lat_sum,	CLASS,	ONE,	SUM, ALL,	"class.%s.lat_sum_ns")
CS_COUNTER(class_lat_max,	CLASS,	ONE,	MAX, ALL,	"class.%s.lat_max_ns")
CS_COUNTER(class_phase,		CLASS,	PHASE,	SUM, ALL,	"class.%s.%s")
CS_COUNTER(flags,		ONE,	FLAG,	SUM, NONZERO,	"flag.%s")
CS_COUNTER(exit_signals,	ONE,	SIGNAL,	SUM, NONZERO,	"exit_signal.%s")
CS_COUNTER(errnos,		ONE,	ERRNO,	SUM, NONZERO,	"errno.%s")
CS_HIST(latency,		CLASS,	ONE,	"ns",		"hist.latency.%s")
CS_COUNTER(vfork_blocked_sum,	ONE,	ONE,	SUM, ALL,	"vfork_blocked_sum_ns")
CS_HIST(vfork_blocked,		ONE,	ONE,	"ns",		"hist.vfork_blocked")
CS_COUNTER(cow,			ONE,	COW,	SUM, ALL,	"cow.%s")
CS_COUNTER(thp_reuses,		ONE,	ONE,	SUM, ALL,	"cow.thp_reuses")
CS_COUNTER(thp_splits,		ONE,	ONE,	SUM, ALL,	"cow.thp_splits")
CS_COUNTER(cow_lat_sum,		ONE,	ONE,	SUM, ALL,	"cow.lat_sum_ns")
CS_HIST(cow_latency,		ONE,	ONE,	"ns",		"hist.cow_latency")
CS_COUNTER(first_run_killed,	ONE,	ONE,	SUM, ALL,	"first_run.killed")
CS_COUNTER(first_run_lat_sum,	CLASS,	ONE,	SUM, ALL,	"first_run.%s.lat_sum_ns")
CS_HIST(first_run,		CLASS,	SIDE,	"ns",		"hist.first_run.%s.%s")
CS_COUNTER(bills,		CLASS,	ONE,	SUM, ALL,	"bill.%s.forks")
CS_COUNTER(bill_child_copies,	CLASS,	ONE,	SUM, ALL,	"bill.%s.child_copies")
CS_COUNTER(bill_parent_copies,	CLASS,	ONE,	SUM, ALL,	"bill.%s.parent_copies")
CS_HIST(cow_pages,		CLASS,	ONE,	"pages",	"hist.cow_pages_per_fork.%s")
CS_COUNTER(size_forks,		SIZE,	ONE,	SUM, NONZERO,	"size.%s.forks")
CS_COUNTER(size_lat_sum,	SIZE,	ONE,	SUM, ALL,	"size.%s.lat_sum_ns")
CS_COUNTER(size_lat_max,	SIZE,	ONE,	MAX, ALL,	"size.%s.lat_max_ns")
CS_COUNTER(steps_partial,	ONE,	ONE,	SUM, ALL,	"steps.partial")
CS_COUNTER(step_creations,	CLASS,	ONE,	SUM, NONZERO,	"step.%s.creations")
CS_COUNTER(step_phase,		CLASS,	ONE,	SUM, ALL,	"step.%s.copy_mm_ns")
CS_COUNTER(step_calls,		CLASS,	STEP,	SUM, ALL,	"step.%s.%s.calls")
CS_COUNTER(step_sum,		CLASS,	STEP,	SUM, ALL,	"step.%s.%s.sum_ns")
CS_COUNTER(step_max,		CLASS,	STEP,	MAX, ALL,	"step.%s.%s.max_ns")
/* A histogram of STEP a class: of every class at once, one is too large. */
CS_HIST(step_hist_fork,		STEP,	ONE,	"ns",		"hist.step.fork.%s")
CS_HIST(step_hist_vfork,	STEP,	ONE,	"ns",		"hist.step.vfork.%s")
CS_HIST(step_hist_thread,	STEP,	ONE,	"ns",		"hist.step.thread.%s")
CS_HIST(step_hist_shared_vm,	STEP,	ONE,	"ns",		"hist.step.shared_vm.%s")
CS_HIST(step_hist_namespace,	STEP,	ONE,	"ns",		"hist.step.namespace.%s")
CS_HIST(step_hist_kthread,	STEP,	ONE,	"ns",		"hist.step.kthread.%s")
CS_HIST(step_hist_worker,	STEP,	ONE,	"ns",		"hist.step.worker.%s")
CS_HIST(step_hist_other,	STEP,	ONE,	"ns",		"hist.step.other.%s")
CS_COUNTER(probe_sampled,	PROBE,	ONE,	SUM, NONE,	"self.%s.sampled")
CS_COUNTER(probe_hits,		PROBE,	ONE,	SUM, NONE,	"self.%s.hits")
CS_COUNTER(probe_ns,		PROBE,	ONE,	SUM, NONE,	"self.%s.ticks")
#undef CS_COUNTER
#undef CS_HIST
