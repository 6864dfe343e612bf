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
#   guest.sh profile BUILD ROUNDS    one vCPU under icount: what each kind
#                                    of hook costs by itself (hookcost.ko
#                                    on prctl(PR_SET_NAME), against none,
#                                    ROUNDS times), step timing's cost
#                                    (steps=1 against without, ROUNDS
#                                    times), then per workload the
#                                    handlers' calls and their bodies' cost
#   guest.sh scaling BUILD           the handlers' sampled cost with every
#                                    vCPU forking at once
#   guest.sh ab BUILD ROUNDS         two builds' handlers, old/ and new/
#                                    under BUILD (scripts/bench/ab), in
#                                    turn: every call timed on each
#                                    workload, then a read of 10,000 rows
#
# Output lines: "result ROUND CONFIG WORKLOAD N CPU_NS ELAPSED_NS", "read
# ...", "memory ...", "hook ROUND MECH N CPU_NS ELAPSED_NS", "profile
# WORKLOAD N CPU_NS ELAPSED_NS", "self WORKLOAD HANDLER HITS AVG_NS",
# "cow WORKLOAD COPIES REUSES", "attach SYMBOL HOW", "anon ROUND CONFIG
# anon N CPU_NS ELAPSED_NS", "steps ROUND on|off WORKLOAD N CPU_NS
# ELAPSED_NS", "stepfn SYMBOL ROLE", "scale ...", "ab ROUND BUILD WORKLOAD N
# HANDLER HITS AVG_NS", "abread ROUND BUILD ROWS read N CPU_NS ELAPSED_NS".
# Everything else is commentary.

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
	local script
	case $1 in
	none) ;;
	clonestat) insmod "$ko" ;;
	cow0) insmod "$ko" cow=0 ;;
	bpftrace)
		script=$here/clonestat.bt
		if ! grep -q '^wp_page_copy$' /sys/kernel/debug/tracing/available_filter_functions; then
			sed 's/^kprobe:wp_page_copy$/kprobe:do_wp_page/' "$script" > /tmp/clonestat.bt
			script=/tmp/clonestat.bt
		fi
		bpftrace "$script" > /tmp/bpftrace.out 2>&1 &
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

quiet() {
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
}

overhead() {
	local r i c w out
	quiet
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
				out=$("$bench" "$w" "${n[$w]}") || exit 1
				echo "result $r $c $out"
			done
			teardown "$c"
		done
	done

	# Reading with 10,000 processes in the table (room for all of them).
	insmod "$ko" task_slots=16384 || exit 1
	"$bench" procs 10000 > /dev/null || exit 1
	echo "read rows $(counter tasks.rows)"
	for r in 1 2 3; do
		out=$("$bench" read 3) || exit 1
		echo "read $out"
	done
	rmmod clonestat
	insmod "$ko" || exit 1
	echo "memory cpus $(nproc) per_cpu $(counter memory.per_cpu_bytes) total $(counter memory.total_bytes)"
	rmmod clonestat
}

# The part of clonestat's cost its handlers' timing cannot see: each kind
# of hook with handlers that do nothing, on a path that is the same every
# call; and per workload, how often each handler runs and what its body
# costs.  scripts/bench/report adds them up.
profile() {
	local r i j m w out
	local mechs=(none kprobe kprobe-int3 kprobe-opt clock-mono clock-local clock-tsc
		kretprobe ftrace tracepoint fprobe)
	local opt=/proc/sys/debug/kprobes-optimization
	quiet
	echo "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	"$bench" rename 20000 > /dev/null || exit 1
	for r in $(seq "$rounds"); do
		for i in "${!mechs[@]}"; do
			m=${mechs[$(((i + r) % ${#mechs[@]}))]}
			[ "$m" = kprobe-int3 ] && echo 0 > $opt
			case $m in
			none) ;;
			kprobe-*) insmod "$build/hookcost/hookcost.ko" mech=kprobe-body ;;
			*) insmod "$build/hookcost/hookcost.ko" mech="$m" ;;
			esac || { echo "hook $r $m absent"; echo 1 > $opt; continue; }
			# The optimizer rewrites a kprobe some ticks after it is armed.
			for j in $(seq 100); do
				[ "$m" != kprobe-opt ] || grep -q 'OPTIMIZED' $kprobes && break
				sleep 0.1
			done
			if [ "$m" = kprobe-opt ] && ! grep -q 'OPTIMIZED' $kprobes; then
				echo "hook $r $m absent"
			else
				"$bench" rename 2000 > /dev/null || exit 1
				out=$("$bench" rename 100000) || exit 1
				echo "hook $r $m $out"
			fi
			[ "$m" = none ] || rmmod hookcost
			echo 1 > $opt
		done
	done

	# What a new anonymous page's fault pays, clonestat loaded against
	# not (no handler of clonestat's runs for it, so no self-timing sees
	# it): the copy marker of 6.12 and 7.2 is called there too.
	"$bench" anon 5 > /dev/null || exit 1
	for r in $(seq "$rounds"); do
		for m in none clonestat; do
			[ $m = none ] || insmod "$ko" || exit 1
			echo "anon $r $m $("$bench" anon 20)"
			[ $m = none ] || rmmod clonestat
		done
	done

	# Step timing's cost: clonestat loaded with steps=1 against without,
	# in turn (the order alternates by round), per workload: the guest
	# time between them is the instructions step timing adds.
	for r in $(seq "$rounds"); do
		for m in $( ((r % 2)) && echo "off on" || echo "on off"); do
			if [ $m = on ]; then insmod "$ko" steps=1; else insmod "$ko"; fi || exit 1
			for w in fork vfork thread; do
				"$bench" "$w" "$((n[$w] / 10 + 1))" > /dev/null || exit 1
				echo "steps $r $m $("$bench" "$w" "${n[$w]}")"
			done
			[ $m = off ] || awk '$2 ~ /^step\./ { print "stepfn", $1, $2 }' /proc/clonestat
			rmmod clonestat
		done
	done

	# Every handler call timed: exact averages, not one call in 64.
	insmod "$ko" self_sample=0 || exit 1
	awk '/^# [^ ]+: (ftrace callback|kprobe)$/ { sub(":", "", $2); print "attach", $2, $3 }
		$1 == "clock" { print "clonestat_clock", $2 }' /proc/clonestat
	for w in $workloads; do
		"$bench" "$w" "$((n[$w] / 10 + 1))" > /dev/null || exit 1
		# The bench resets the counters and saves them itself: no
		# fork of this shell's falls inside.
		out=$(CLONE_BENCH_PROC=/tmp/profile.proc "$bench" "$w" "${n[$w]}") || exit 1
		echo "profile $out"
		awk -v w="$w" '/^self\..*\.(hits|avg_ns) / { print "self", w, $1, $2 }
			$1 == "cow.copies" { c = $2 } $1 == "cow.reuses" { u = $2 }
			END { print "cow", w, c + 0, u + 0 }' /tmp/profile.proc
	done
	# How each kprobe sat: on ftrace, optimized to a jump, or a breakpoint.
	sed 's/^/kprobes /' $kprobes
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

# The same measures as the profile's last part and the overhead's read,
# for two builds alternated in one boot: what one build's handlers cost
# against the other's, free of the differences between boots.
ab() {
	local r b w out order
	quiet
	for w in $workloads; do "$bench" "$w" "${n[$w]}" > /dev/null || exit 1; done
	for r in $(seq "$rounds"); do
		# Rounds alternate which build goes first.
		order="old new"
		[ $((r % 2)) -eq 0 ] && order="new old"
		for b in $order; do
			insmod "$build/$b/module/clonestat.ko" self_sample=0 || exit 1
			for w in $workloads; do
				"$bench" "$w" "$((n[$w] / 10 + 1))" > /dev/null || exit 1
				CLONE_BENCH_PROC=/tmp/ab.proc "$bench" "$w" "${n[$w]}" > /dev/null || exit 1
				awk -v p="ab $r $b $w ${n[$w]}" '/^self\..*\.hits / { h[$1] = $2 }
					/^self\..*\.avg_ns / { sub(/\.avg_ns$/, "", $1)
						print p, substr($1, 6), h[$1 ".hits"], $2 }' /tmp/ab.proc
			done
			rmmod clonestat
			insmod "$build/$b/module/clonestat.ko" task_slots=16384 || exit 1
			"$bench" procs 10000 > /dev/null || exit 1
			out=$("$bench" read 3) || exit 1
			echo "abread $r $b $(counter tasks.rows) $out"
			rmmod clonestat
		done
	done
}

case $mode in
overhead) overhead ;;
ab) ab ;;
profile) profile ;;
scaling) scaling ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
