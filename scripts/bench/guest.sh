#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of `make bench` (scripts/bench/run boots the VM).
#
#   guest.sh overhead BUILD ROUNDS   one vCPU under icount: every workload
#                                    under every configuration, ROUNDS
#                                    times, the configurations' order
#                                    rotated each round; then the cost of
#                                    reading /proc/clonestat with 10,000
#                                    processes in the table, and memory
#   guest.sh scaling BUILD           the handlers' sampled cost with every
#                                    vCPU forking at once
#
# Output lines: "result ROUND CONFIG WORKLOAD NS_PER_OP", "read ...",
# "memory ...", "scale ...".  Everything else is commentary.

set -u
mode=$1 build=$2 rounds=${3:-3}
here=$(dirname "$(readlink -f "$0")")
ko=$build/module/clonestat.ko
bench=$build/clone_bench
kprobes=/sys/kernel/debug/kprobes/list
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug

declare -A n=([fork]=1000 [vfork]=2000 [thread]=2000 [cow]=20)
workloads="fork vfork thread cow"
configs=(none clonestat cow0 bpftrace)
bt_pid=

setup() {
	case $1 in
	none) ;;
	clonestat) insmod "$ko" ;;
	cow0) insmod "$ko" cow=0 ;;
	bpftrace)
		bpftrace "$here/clonestat.bt" > /tmp/bpftrace.out 2>&1 &
		bt_pid=$!
		# Attached once its five probes are listed.
		until [ "$(grep -c . $kprobes 2> /dev/null)" -ge 5 ]; do
			kill -0 $bt_pid 2> /dev/null ||
				{ echo "bpftrace died:"; cat /tmp/bpftrace.out; exit 1; }
			sleep 1
		done ;;
	esac
}

teardown() {
	case $1 in
	clonestat|cow0) rmmod clonestat ;;
	bpftrace)
		kill -INT $bt_pid
		wait $bt_pid
		grep -q '@class\[fork\]' /tmp/bpftrace.out ||
			{ echo "bpftrace printed no maps:"; head -n 20 /tmp/bpftrace.out; exit 1; } ;;
	esac
}

counter() { awk -v k="$1" '$1 == k { print $2 }' /proc/clonestat; }

overhead() {
	local r i c w
	# No pid wrap-around during the run: after one, pid allocation costs
	# differ, and the rounds with it stand apart (20 % here).
	echo 4194304 > /proc/sys/kernel/pid_max
	# Guest time counts every task's instructions: quiet the background
	# (THP scanning, compaction, vmstat and watchdog work).
	echo never > /sys/kernel/mm/transparent_hugepage/enabled
	echo never > /sys/kernel/mm/transparent_hugepage/defrag
	echo 0 > /proc/sys/vm/compaction_proactiveness
	echo 3600 > /proc/sys/vm/stat_interval
	echo 0 > /proc/sys/kernel/watchdog
	# Freed task stacks and structs come back through RCU; when grace
	# periods end varies, and with it whether a fork finds a cached stack
	# or allocates one (10,000 instructions).  Expedited grace periods
	# make that the same from one run to the next.
	echo 1 > /sys/kernel/rcu_expedited
	# The guest settles over its first few thousand creations (slab
	# caches, page allocator, stack cache): the first rounds ran about
	# 20 % slower than the rest without this.
	echo "# warm-up"
	for i in 1 2 3; do
		for w in $workloads; do "$bench" "$w" "${n[$w]}" > /dev/null || exit 1; done
	done
	for r in $(seq "$rounds"); do
		for i in 0 1 2 3; do
			c=${configs[$(((i + r) % 4))]}
			setup "$c"
			for w in $workloads; do
				# A tenth first: caches warm under this configuration.
				"$bench" "$w" "$((n[$w] / 10 + 1))" > /dev/null || exit 1
				echo "result $r $c $("$bench" "$w" "${n[$w]}")" || exit 1
			done
			teardown "$c"
		done
	done

	# Reading with 10,000 processes in the table (room for all of them).
	insmod "$ko" task_slots=16384 || exit 1
	"$bench" procs 10000 > /dev/null || exit 1
	echo "read rows $(counter tasks.rows)"
	for r in 1 2 3; do
		echo "read $("$bench" read 3)"
	done
	rmmod clonestat
	insmod "$ko" || exit 1
	echo "memory cpus $(nproc) per_cpu $(counter memory.per_cpu_bytes) total $(counter memory.total_bytes)"
	rmmod clonestat

	# The handlers' own cost, in guest instructions a call (self_cost:
	# one call in 64 timed), over 1,000 forks and 4 COW-heavy forks.
	insmod "$ko" || exit 1
	"$bench" fork 1000 > /dev/null || exit 1
	"$bench" cow 4 > /dev/null || exit 1
	awk '/^self\..*\.(hits|avg_ns) / { print "self", $1, $2 }' /proc/clonestat
	rmmod clonestat
}

scaling() {
	local i pids=
	insmod "$ko" || exit 1
	for i in $(seq "$(nproc)"); do
		"$bench" fork 300 > /dev/null & pids="$pids $!"
	done
	wait $pids
	awk -v c="$(nproc)" '/^self\..*\.avg_ns / { print "scale", c, $1, $2 }' /proc/clonestat
	rmmod clonestat
}

case $mode in
overhead) overhead ;;
scaling) scaling ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
