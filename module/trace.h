/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clonestat's trace events: the records the per-CPU buffers count, one
 * event each, for perf, trace-cmd and bpftrace (clonestat:*).  When
 * nobody listens, each is a static-key branch not taken.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM clonestat

#if !defined(_CLONESTAT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _CLONESTAT_TRACE_H

#include <linux/tracepoint.h>

#include "clonestat.h"

/*
 * The classes' and COW outcomes' values, for tools that read the format
 * files (trace-cmd, perf), and their names: trace_syms.h, made from
 * lists.h by the build (trace_syms.awk).
 */
#include "trace_syms.h"

CS_TRACE_ENUMS

#define cs_show_class(c)	__print_symbolic(c, CS_TRACE_CLASSES)
#define cs_show_outcome(o)	__print_symbolic(o, CS_TRACE_COW_OUTCOMES)

/* A finished creation: what cs_record() counts. */
TRACE_EVENT(clone,
	    TP_PROTO(const struct cs_record *r),
	    TP_ARGS(r),
	    TP_STRUCT__entry(__field(u64, flags)
			     __field(u64, lat_ns)
			     __field(u64, copy_ns)
			     __field(u64, mm_ns)
			     __field(u64, rest_ns)
			     __field(u64, parent_kib)
			     __field(pid_t, child)
			     __field(int, result)
			     __field(u8, class)
			     __field(bool, untimed)),
	    TP_fast_assign(__entry->flags = r->flags;
			   __entry->lat_ns = r->lat;
			   __entry->copy_ns = r->phase[CS_PH_COPY];
			   __entry->mm_ns = r->phase[CS_PH_MM];
			   __entry->rest_ns = r->phase[CS_PH_REST];
			   __entry->parent_kib = r->parent_kib;
			   __entry->child = r->child;
			   __entry->result = r->result;
			   __entry->class = r->class;
			   __entry->untimed = r->untimed;),
	    TP_printk("class=%s child=%d result=%d flags=%#llx lat_ns=%llu copy_ns=%llu mm_ns=%llu rest_ns=%llu parent_kib=%llu untimed=%d",
		      cs_show_class(__entry->class), __entry->child, __entry->result,
		      __entry->flags, __entry->lat_ns, __entry->copy_ns, __entry->mm_ns,
		      __entry->rest_ns, __entry->parent_kib, __entry->untimed)
);

/* A new task's first run, from its wakeup. */
TRACE_EVENT(first_run,
	    TP_PROTO(u8 class, bool same_cpu, u64 lat, bool killed),
	    TP_ARGS(class, same_cpu, lat, killed),
	    TP_STRUCT__entry(__field(u64, lat_ns)
			     __field(u8, class)
			     __field(bool, same_cpu)
			     __field(bool, killed)),
	    TP_fast_assign(__entry->lat_ns = lat;
			   __entry->class = class;
			   __entry->same_cpu = same_cpu;
			   __entry->killed = killed;),
	    TP_printk("class=%s lat_ns=%llu same_cpu=%d killed=%d",
		      cs_show_class(__entry->class), __entry->lat_ns, __entry->same_cpu,
		      __entry->killed)
);

/* A COW fault recorded, in the current task. */
TRACE_EVENT(cow,
	    TP_PROTO(int outcome, u64 lat, bool timed),
	    TP_ARGS(outcome, lat, timed),
	    TP_STRUCT__entry(__field(u64, lat_ns)
			     __field(int, outcome)
			     __field(bool, timed)),
	    TP_fast_assign(__entry->lat_ns = lat;
			   __entry->outcome = outcome;
			   __entry->timed = timed;),
	    TP_printk("outcome=%s lat_ns=%llu timed=%d",
		      cs_show_outcome(__entry->outcome),
		      __entry->lat_ns, __entry->timed)
);

/* A fork's COW bill, closed at the child's exec or exit. */
TRACE_EVENT(cow_bill,
	    TP_PROTO(u8 class, u64 child_copies, u64 parent_copies),
	    TP_ARGS(class, child_copies, parent_copies),
	    TP_STRUCT__entry(__field(u64, child_copies)
			     __field(u64, parent_copies)
			     __field(u8, class)),
	    TP_fast_assign(__entry->child_copies = child_copies;
			   __entry->parent_copies = parent_copies;
			   __entry->class = class;),
	    TP_printk("class=%s child_copies=%llu parent_copies=%llu",
		      cs_show_class(__entry->class), __entry->child_copies,
		      __entry->parent_copies)
);

#endif /* _CLONESTAT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
