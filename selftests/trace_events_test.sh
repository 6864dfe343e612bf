#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the VM, with clonestat loaded (clonestat.sh runs it): clonestat's
# trace events recorded with Debian's trace-cmd over a workload, then
# counted: as many as /proc/clonestat counts for the same workload.
#
# usage: trace_events_test.sh DIR_WITH_CLONE_WORKLOAD

set -u
progs=$1
command -v trace-cmd > /dev/null || { echo "no trace-cmd"; exit 1; }
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing || exit 1
[ -d /sys/kernel/tracing/events/clonestat ] || { echo "no clonestat events in tracefs"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; echo "filter clear" > /proc/clonestat' EXIT

# Only the workload's creations: trace-cmd's own processes stay out.
echo "filter comm clone_workload" > /proc/clonestat
echo reset > /proc/clonestat
trace-cmd record -q -o "$tmp/t.dat" -e clonestat -- \
	"$progs/clone_workload" -f 12 -v 5 -t 7 -c 16 > /dev/null 2>&1 ||
	{ echo "trace-cmd record failed"; exit 1; }
trace-cmd report -i "$tmp/t.dat" > "$tmp/t.txt" 2> /dev/null ||
	{ echo "trace-cmd report failed"; exit 1; }

counter() { awk -v k="$1" '$1 == k { print $2 }' /proc/clonestat; }
events() { grep -cE "$1" "$tmp/t.txt"; }
rc=0
check() { # NAME EVENTS COUNTER
	if [ "$2" != "$3" ] || [ "$3" = 0 ]; then
		echo "$1: $2 events, /proc/clonestat $3"
		rc=1
	else
		echo "$1: $2 events = /proc/clonestat"
	fi
}
check fork "$(events ' clone: +class=fork ')" "$(counter class.fork.calls)"
check vfork "$(events ' clone: +class=vfork ')" "$(counter class.vfork.calls)"
check thread "$(events ' clone: +class=thread ')" "$(counter class.thread.calls)"
first=$(awk '$1 ~ /^hist\.first_run\./ { n += $2 } END { print n + 0 }' /proc/clonestat)
check first_run "$(events ' first_run: ')" "$first"
check cow_bill "$(events ' cow_bill: ')" "$(counter bill.fork.forks)"
check cow "$(events ' cow: ')" "$(($(counter cow.copies) + $(counter cow.reuses) + $(counter cow.other)))"
exit $rc
