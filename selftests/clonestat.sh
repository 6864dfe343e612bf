#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load clonestat, test it, unload it; TAP on stdout.  Needs root and a
# kernel with kprobes: run it inside the VM (make check does).
#
# usage: clonestat.sh [MODULE.ko [TEST_PROG_DIR]]
#   defaults: $CLONESTAT_BUILD/module/clonestat.ko and $CLONESTAT_BUILD
# CLONESTAT_TEST_ONLY=REGEX runs only the checks whose names match it
# (the C tests as one, named clonestat_test); CLONESTAT_TEST_SKIP=REGEX
# reports those whose names match it as skipped, with the reason in
# CLONESTAT_TEST_SKIP_WHY.
# CLONESTAT_TEST_SET=steps runs step timing against function_graph
# instead, for a VM of its own under -icount (scripts/check).
# CLONESTAT_TEST_SET=storm runs the reload storm instead of the suite:
# load and unload while every CPU creates tasks, which patches kernel
# text under load; scripts/check runs it in a VM of its own under
# single-threaded TCG (README, "Known problems").  CLONESTAT_TEST_STORM_CYCLES
# (default 200) and CLONESTAT_TEST_STORM_CONTROL_CYCLES (default 50) size it,
# CLONESTAT_TEST_LOAD_CYCLES (default 20) the plain load/unload check.

set -u
ksft_skip=4
build=${CLONESTAT_BUILD:-$(dirname "$(readlink -f "$0")")}
ko=${1:-$build/module/clonestat.ko}
progs=${2:-$build}
here=$(dirname "$(readlink -f "$0")")
kprobes=/sys/kernel/debug/kprobes/list
enabled_functions=/sys/kernel/tracing/enabled_functions

set=${CLONESTAT_TEST_SET:-main}
load_cycles=${CLONESTAT_TEST_LOAD_CYCLES:-20}
[[ $load_cycles =~ ^[1-9][0-9]*$ ]] ||
	{ echo "CLONESTAT_TEST_LOAD_CYCLES=$load_cycles: want a positive number"; exit 1; }
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
skip() { selected "$1" || return 0; n=$((n + 1)); echo "ok $n $1 # SKIP ${2:-}"; }
diag() { sed 's/^/# /'; }
selected() { [[ -z ${CLONESTAT_TEST_ONLY:-} || $1 =~ $CLONESTAT_TEST_ONLY ]]; }
usecs() { echo $((${EPOCHREALTIME/./})); }
# took T0: "# took S.D s" since T0 (usecs); check-matrix lists the
# slowest.  No fork: run_prog calls it while the C tests count forks.
took() {
	local t=$((${EPOCHREALTIME/./} - $1))
	printf '# took %d.%d s\n' $((t / 1000000)) $((t / 100000 % 10))
}
check() { # check NAME CMD...: one TAP line for the outcome of CMD, and its time
	local name=$1 out t0
	shift
	selected "$name" || return 0
	if [[ -n ${CLONESTAT_TEST_SKIP:-} && $name =~ $CLONESTAT_TEST_SKIP ]]; then
		skip "$name" "CLONESTAT_TEST_SKIP: ${CLONESTAT_TEST_SKIP_WHY:-}"
		return 0
	fi
	t0=$(usecs)
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; fi
	[ -n "$out" ] && diag <<<"$out"
	took "$t0"
	return 0
}

echo "TAP version 13"
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP clonestat.sh needs root"
	exit $ksft_skip
fi
if [ ! -f "$ko" ]; then
	echo "1..0 # SKIP no module at $ko"
	exit $ksft_skip
fi
if [ ! -f /proc/kallsyms ] || ! grep -qw kernel_clone /proc/kallsyms; then
	echo "1..0 # SKIP this kernel has no kernel_clone"
	exit $ksft_skip
fi
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing

loaded() { [ -d /sys/module/clonestat ]; }
# A function clonestat hooks (hook.c) still has an ftrace callback.
hooks_left() {
	grep -s -qE '^(schedule_tail|exit_mmap|wp_page_copy|__vmf_anon_prepare|wp_page_reuse|uprobe_(start|end)_dup_mmap) ' \
		"$enabled_functions"
}
unload() { ! loaded || rmmod clonestat; }
cleanup() { loaded && rmmod clonestat; }
trap cleanup EXIT

# The kernel log is judged from here on, not from boot; so is kmemleak.
mark="clonestat-selftest-start-$$-$RANDOM"
echo "$mark" > /dev/kmsg
[ -w /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak

# The offset is 0, or 4 past an IBT endbr64 (6.12 and later).
probe_listed() { grep -qE '^[0-9a-f]+ +r +kernel_clone\+0x[0-9a-f]+ ' "$kprobes"; }

t_load_unload() {
	local i
	for i in $(seq "$load_cycles"); do
		insmod "$ko" || { echo "insmod #$i failed"; return 1; }
		loaded || { echo "no /sys/module/clonestat after insmod #$i"; return 1; }
		rmmod clonestat || { echo "rmmod #$i failed"; return 1; }
		! loaded || { echo "/sys/module/clonestat left after rmmod #$i"; return 1; }
	done
}

t_proc_lifecycle() {
	local first
	insmod "$ko" || return 1
	[ -r /proc/clonestat ] || { echo "no /proc/clonestat while loaded"; unload; return 1; }
	read -r first < /proc/clonestat
	[ "$first" = "clonestat version 1" ] ||
		{ echo "first line: '$first'"; unload; return 1; }
	unload || return 1
	[ ! -e /proc/clonestat ] || { echo "/proc/clonestat left after unload"; return 1; }
}

t_kprobe_listed() {
	probe_listed && { echo "kernel_clone kretprobe listed before load"; return 1; }
	insmod "$ko" || return 1
	probe_listed || { echo "kernel_clone kretprobe not listed"; cat "$kprobes"; unload; return 1; }
	unload || return 1
	! probe_listed || { echo "kernel_clone kretprobe still listed after unload"; return 1; }
}

# Each hook is where /proc/clonestat says: an ftrace callback of
# clonestat's in tracing's enabled_functions, or a kprobe in the kprobe
# list; neither is left after the unload.
t_hooks_listed() {
	local sym how rc=0 seen=0
	insmod "$ko" || return 1
	while read -r sym how; do
		seen=$((seen + 1))
		sym=${sym%:}
		echo "$sym: $how"
		case $how in
		"ftrace callback")
			grep -qE "^$sym .*\[clonestat\]" "$enabled_functions" ||
				{ echo "$sym: no clonestat callback in $enabled_functions"; rc=1; } ;;
		kprobe)
			grep -qE " k +$sym\+0x" "$kprobes" ||
				{ echo "$sym: not in $kprobes"; rc=1; } ;;
		*) echo "$sym: unknown kind '$how'"; rc=1 ;;
		esac
	done < <(sed -nE 's/^# ([a-z_]+: )(ftrace callback|kprobe)$/\1 \2/p' /proc/clonestat)
	[ $seen -gt 0 ] || { echo "no hook listed"; rc=1; }
	unload || return 1
	! hooks_left || { echo "callbacks left:"; cat "$enabled_functions"; rc=1; }
	return $rc
}

# A probe that cannot be registered fails the load with its errno and a
# pr_err naming the symbol, and leaves nothing registered.
t_bad_symbol() {
	local sym=clonestat_no_such_symbol out
	out=$(insmod "$ko" clone_symbol=$sym 2>&1) &&
		{ echo "insmod with clone_symbol=$sym succeeded"; unload; return 1; }
	echo "insmod said: $out"
	! loaded || { echo "module loaded after a failed registration"; return 1; }
	[ ! -e /proc/clonestat ] || { echo "/proc/clonestat left"; return 1; }
	! grep -q "$sym" "$kprobes" || { echo "probe left registered"; return 1; }
	dmesg | sed -n "/$mark/,\$p" | grep -q "clonestat: cannot probe $sym: error -2" ||
		{ echo "no pr_err naming $sym with -ENOENT"; return 1; }
}

# Every parameter out of range fails the load with EINVAL and says why.
t_bad_params() {
	local p out
	for p in task_slots=3 task_slots=0 task_slots=131072 worst_slots=0 \
		 worst_slots=257 max_inflight=63 max_inflight=1000 cow_bills=100 \
		 task_slots=abc read_gid=-2 read_gid=abc self_sample=17; do
		out=$(insmod "$ko" "$p" 2>&1) &&
			{ echo "insmod $p succeeded"; unload; return 1; }
		# kmod words EINVAL from init_module() as "Invalid parameters".
		grep -qE "Invalid (argument|parameters)" <<<"$out" ||
			{ echo "insmod $p: $out (not EINVAL)"; return 1; }
		! loaded || { echo "loaded after insmod $p"; return 1; }
		[ ! -e /proc/clonestat ] || { echo "/proc/clonestat left after $p"; return 1; }
	done
	dmesg | sed -n "/$mark/,\$p" | grep -q "task_slots=3: must be a power of two in 16..65536" ||
		{ echo "no log line saying what task_slots allows"; return 1; }
}

# A storm of forks, vforks, threads and COW faults on every CPU.  A
# workload that fails ends its loop, which storm_stop reports: each loop
# must still be running when it is stopped.
storm_pids=()
storm_start() {
	local i
	for i in $(seq "$(nproc)"); do
		(while "$progs/clone_workload" -f 20 -v 5 -t 10 -c 64 > /dev/null; do :; done
		 exit 1) &
		storm_pids+=($!)
	done
}
storm_stop() {
	local pid rc=0 st
	kill "${storm_pids[@]}" 2> /dev/null
	for pid in "${storm_pids[@]}"; do
		wait "$pid" 2> /dev/null
		st=$?
		# 143: ended by the kill (SIGTERM), not by a failed workload.
		[ $st -eq 143 ] || { echo "a storm workload failed (loop status $st)"; rc=1; }
	done
	storm_pids=()
	return $rc
}

# The reload storm (CLONESTAT_TEST_SET=storm).
storm_cycles=${CLONESTAT_TEST_STORM_CYCLES:-200}
control_cycles=${CLONESTAT_TEST_STORM_CONTROL_CYCLES:-50}

# The control: the kernel's own kprobe_events cycled the same way, with
# no clonestat loaded yet (so the kernel is still untainted).  Where this
# crashes, so would any module's storm: the emulation, not clonestat.
t_kprobe_events_control() {
	local out
	out=$("$here/kprobe_events_storm.sh" "$progs" "$control_cycles")
	echo "$out"
	[ "$out" = "$control_cycles cycles done; tainted=0" ]
}

# Readers and writers of /proc/clonestat until the file $1 exists.  The
# module comes and goes under them: their errors are expected.
churn_pids=()
churn_start() {
	local stop=$1
	(while [ ! -e "$stop" ]; do mapfile -t x < /proc/clonestat; done 2> /dev/null) &
	churn_pids+=($!)
	(while [ ! -e "$stop" ]; do
		for w in reset "filter comm clone_workload" "filter tgid $$" disable \
			 enable "filter clear"; do
			echo "$w" > /proc/clonestat
		done
	done 2> /dev/null) &
	churn_pids+=($!)
}
churn_stop() {
	touch "$1"
	wait "${churn_pids[@]}"
	churn_pids=()
	rm -f "$1"
}

# Load and unload while every CPU forks, vforks, makes threads and takes
# COW faults, and /proc/clonestat is read, reset and filtered.
t_reload_storm() {
	local i cycles_done=0 rc=0 stop t slowest=0
	stop=$(mktemp -u /tmp/clonestat-churn.XXXXXX)
	storm_start
	churn_start "$stop"
	for i in $(seq "$storm_cycles"); do
		insmod "$ko" || { echo "insmod #$i failed"; rc=1; break; }
		t=$(usecs)
		rmmod clonestat || { echo "rmmod #$i failed"; rc=1; break; }
		t=$((($(usecs) - t) / 1000))
		[ "$t" -gt "$slowest" ] && slowest=$t
		cycles_done=$i
	done
	churn_stop "$stop"
	storm_stop || rc=1
	echo "$cycles_done of $storm_cycles load/unload cycles; the slowest rmmod took $slowest ms"
	nothing_left || rc=1
	return $rc
}

# spawn CMD...: CMD in the background with its standard input and output
# on pipes: sets spawned (its pid), to (its stdin), from (its stdout).
spawn() {
	local d
	d=$(mktemp -d)
	mkfifo "$d/in" "$d/out"
	"$@" < "$d/in" > "$d/out" &
	spawned=$!
	exec {to}> "$d/in" {from}< "$d/out"
	rm -rf "$d"
}
# spawn_says LINE CMD...: spawn CMD and read its first line; fails,
# saying what CMD said, unless that is LINE.
spawn_says() {
	local want=$1 line
	shift
	spawn "$@"
	read -r line <&$from
	[ "$line" = "$want" ] || { echo "${*##*/} said '$line', not '$want'"; return 1; }
}
# spawned_end: let it go (a line on its stdin), read its last line, wait
# for it; fails with its exit status.
spawned_end() {
	local rc
	# Not killed by SIGPIPE when it has exited already.
	(trap '' PIPE; echo go >&$to) 2> /dev/null
	read -r last <&$from
	wait $spawned
	rc=$?
	exec {to}>&- {from}<&-
	return $rc
}

# Unload while vfork parents wait inside kernel_clone(): clone_workload
# says "held N" once all N vfork children run, which puts their parents
# in kernel_clone(), entered with the module loaded.  Their kretprobe
# returns come after it is gone.
t_unload_with_vfork_parents() {
	local n=20 rc=0 last
	insmod "$ko" || return 1
	if spawn_says "held $n" "$progs/clone_workload" -B $n -H; then
		rmmod clonestat || { echo "rmmod failed"; rc=1; }
	else
		rc=1
	fi
	spawned_end || { echo "the vfork parents failed"; rc=1; }
	echo "$n vfork parents in kernel_clone() at the unload; then: $last"
	unload
	nothing_left || rc=1
	return $rc
}

# Unload while new children wait for their first run: clone_workload -W
# makes N children that were woken (the module's wakeup probe saw them)
# and have never run, and keeps them so until the unload has begun (the
# module's state is "going"); then they run, into schedule_tail(), while
# the module's exit unhooks it.
t_unload_with_waiting_children() {
	local n=20 state rc=0 rm last
	# This shell, its rmmod and its polling on the first CPU, never
	# behind the workload's SCHED_FIFO spin on the last (the workload
	# moves itself there).
	taskset -pc 0 $BASHPID > /dev/null || return 1
	insmod "$ko" || return 1
	if ! spawn_says "waiting $n" "$progs/clone_workload" -W $n; then
		spawned_end
		unload
		return 1
	fi
	rmmod clonestat & rm=$!
	state=live
	while [ "$state" = live ] && kill -0 $rm 2> /dev/null; do
		read -r state < /sys/module/clonestat/initstate || state=gone
	done
	echo "module $state when the children were let go"
	[ "$state" != live ] || { echo "rmmod ended with the module live"; rc=1; }
	spawned_end || { echo "the workload failed"; rc=1; }
	echo "$last"
	[ "$last" = "still waiting at the release" ] || rc=1
	wait $rm || { echo "rmmod failed"; rc=1; }
	nothing_left || rc=1
	return $rc
}

# After all that, a fresh load counts a known workload exactly.
t_exact_after_storm() {
	local got rc=0
	insmod "$ko" || return 1
	echo "filter comm clone_workload" > /proc/clonestat
	"$progs/clone_workload" -f 40 -v 10 -t 20 -c 32 > /dev/null ||
		{ echo "the workload failed"; unload; return 1; }
	counters_are "class.fork.calls 41" "class.vfork.calls 10" "class.thread.calls 20" \
		"failed 0" "drops.inflight 0" "drops.nested 0" "drops.child 0" \
		"missed.kernel_clone 0" "bill.fork.forks 41" || rc=1
	got=$(counter bill.fork.child_copies)
	[ "${got:-0}" -ge 32 ] || { echo "bill.fork.child_copies $got, want 32 or more"; rc=1; }
	unload || rc=1
	return $rc
}

# A filter change while creations are in flight: what began under the
# old filter is recorded under neither.  Under "filter comm
# clone_workload", N vfork parents held inside kernel_clone() (-B -H);
# the filter changes to a name no task has, and they are let go: their
# returns are counted in "ok" and not in their class.  (First runs across
# a change are not checked here: clone_workload -W keeps its children
# from running only while their parent never sleeps: on the debug
# kernel, once, a child ran before its parent let it.)
t_filter_change_in_flight() {
	local n=20 ok vforks rc=0
	insmod "$ko" || return 1
	echo "filter comm clone_workload" > /proc/clonestat
	spawn_says "held $n" "$progs/clone_workload" -B $n -H || rc=1
	echo "filter comm nobody" > /proc/clonestat
	ok=$(counter ok) vforks=$(counter class.vfork.calls)
	spawned_end || { echo "the vfork parents failed"; rc=1; }
	counters_are "ok $((ok + n))" "class.vfork.calls $vforks" || rc=1
	unload || rc=1
	return $rc
}

# counter NAME: its value in the counters section ("" when absent).
counter() {
	local k v
	while read -r k v; do
		[ "$k" = "$1" ] && { echo "$v"; return; }
	done < /proc/clonestat
}

# counters_are "NAME VALUE"...: each counter has its value; says which not.
counters_are() {
	local want got rc=0
	for want in "$@"; do
		got=$(counter "${want% *}")
		[ "$got" = "${want#* }" ] || { echo "${want% *}: $got, want ${want#* }"; rc=1; }
	done
	return $rc
}

# Root only by default; read_gid=G opens reading, not writing, to G.
t_read_gid() {
	local mode
	insmod "$ko" || return 1
	mode=$(stat -c '%a %u %g' /proc/clonestat)
	[ "$mode" = "600 0 0" ] || { echo "default mode/owner: $mode"; unload; return 1; }
	setpriv --reuid=65534 --regid=65534 --clear-groups head -n1 /proc/clonestat \
		> /dev/null 2>&1 && { echo "nobody read it"; unload; return 1; }
	unload || return 1
	insmod "$ko" read_gid=4242 || return 1
	mode=$(stat -c '%a %u %g' /proc/clonestat)
	[ "$mode" = "640 0 4242" ] || { echo "read_gid mode/owner: $mode"; unload; return 1; }
	[ "$(setpriv --reuid=65534 --regid=4242 --clear-groups head -n1 /proc/clonestat)" = \
		"clonestat version 1" ] || { echo "group 4242 cannot read"; unload; return 1; }
	setpriv --reuid=65534 --regid=65534 --clear-groups head -n1 /proc/clonestat \
		> /dev/null 2>&1 && { echo "nobody outside the group read it"; unload; return 1; }
	setpriv --reuid=65534 --regid=4242 --clear-groups sh -c 'echo reset > /proc/clonestat' \
		2> /dev/null && { echo "the read group could write"; unload; return 1; }
	[ "$(cat /sys/module/clonestat/parameters/read_gid)" = 4242 ] ||
		{ echo "read_gid not shown in sysfs"; unload; return 1; }
	unload
}

# Readers, resets, filters and disable/enable during a storm; the log is
# checked at the end.  The readers and writers are shell builtins; each
# stops at its first error, and each one's status is judged.
t_storm_with_readers_and_writers() {
	local end rc=0 i pid pids=() w
	insmod "$ko" || return 1
	storm_start
	end=$((SECONDS + ${CLONESTAT_TEST_STORM_SECONDS:-20}))
	for i in 1 2; do
		(while [ $SECONDS -lt $end ]; do
			mapfile -t x < /proc/clonestat || exit 1
			[ "${x[0]}" = "clonestat version 1" ] ||
				{ echo "a reader read '${x[0]}'"; exit 1; }
		done) &
		pids+=($!)
	done
	(while [ $SECONDS -lt $end ]; do
		for w in reset "filter comm clone_workload" "filter tgid $$" disable \
			 enable "filter clear"; do
			echo "$w" > /proc/clonestat || { echo "writing '$w' failed"; exit 1; }
		done
	done) &
	pids+=($!)
	for pid in "${pids[@]}"; do
		wait "$pid" || { echo "reader or writer $pid failed"; rc=1; }
	done
	storm_stop || rc=1
	head -n1 /proc/clonestat | grep -qx "clonestat version 1" || rc=1
	unload || rc=1
	return $rc
}

# CPUs taken offline and back during a storm.
t_hotplug_during_storm() {
	local cpu=/sys/devices/system/cpu/cpu1/online i rc=0
	insmod "$ko" || return 1
	storm_start
	for i in $(seq 10); do
		echo 0 > $cpu || { echo "offline #$i failed"; rc=1; break; }
		sleep 0.3
		echo 1 > $cpu || { echo "online #$i failed"; rc=1; break; }
		sleep 0.3
	done
	storm_stop || rc=1
	echo 1 > $cpu 2> /dev/null
	head -n1 /proc/clonestat | grep -qx "clonestat version 1" || rc=1
	unload || rc=1
	return $rc
}

# Exact counts while CPUs race: NPROC workloads at once, with readers.
# The filter keeps the shell's own forks out.  Each makes 3F forks, F
# vforks and 2F threads; CLONESTAT_TEST_EXACT_F sets F (default 100; the
# debug kernel, at 15 ms a fork, runs fewer).
t_exact_under_load() {
	local n=$(($(nproc) * 2)) f=${CLONESTAT_TEST_EXACT_F:-100} i pid pids=() r rc=0
	insmod "$ko" || return 1
	echo "filter comm clone_workload" > /proc/clonestat
	(while :; do mapfile -t x < /proc/clonestat; done) & r=$!
	for i in $(seq $n); do
		"$progs/clone_workload" -f $((3 * f)) -v $f -t $((2 * f)) -c 16 > /dev/null &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || { echo "a workload failed"; rc=1; }
	done
	kill $r; wait $r 2> /dev/null
	[ $rc = 0 ] || { unload; return 1; }
	counters_are "class.fork.calls $((n * (3 * f + 1)))" "class.vfork.calls $((n * f))" \
		"class.thread.calls $((n * 2 * f))" "failed 0" "drops.inflight 0" \
		"drops.nested 0" "missed.kernel_clone 0" "bill.fork.forks $((n * (3 * f + 1)))" || rc=1
	unload || rc=1
	return $rc
}

# Above capacity (more creations in flight than max_inflight), every
# creation is still counted and the overflow is counted as a drop.
t_drops_are_counted() {
	local n=100 got forks drops missed timed rc=0
	insmod "$ko" max_inflight=64 || return 1
	echo "filter comm clone_workload" > /proc/clonestat
	# n processes vfork together; their children wait until all n exist,
	# so n parents wait in kernel_clone() at once for a 64-slot table.
	"$progs/clone_workload" -B $n > /dev/null ||
		{ echo "the workload failed"; unload; return 1; }
	got=$(counter class.vfork.calls)
	forks=$(counter class.fork.calls)
	drops=$(counter drops.inflight)
	missed=$(counter missed.kernel_clone)
	echo "$n vforks at once, max_inflight=64: counted $got (and $forks forks), drops.inflight $drops, missed $missed"
	[ "$got" = $n ] || rc=1
	[ "$forks" = $n ] || rc=1
	[ "$missed" = 0 ] || rc=1
	# The n forks are made before any vfork begins, so only vforks can
	# find the table full: n - 64 at least, more when a hash window of 16
	# fills first.  The vforks that had a slot are those whose wait was
	# timed (hist.vfork_blocked): with the drops, exactly n.
	timed=$(awk '$1 ~ /^hist\.vfork_blocked\./ { t += $2 } END { print t + 0 }' /proc/clonestat)
	echo "vforks timed: $timed"
	# The first 16 claims always find a slot (a window has 16).
	[ "${drops:-0}" -ge $((n - 64)) ] && [ "${drops:-0}" -le $((n - 16)) ] ||
		{ echo "drops.inflight $drops, want $((n - 64)) to $((n - 16))"; rc=1; }
	[ $((drops + timed)) = $n ] ||
		{ echo "drops.inflight $drops + timed vforks $timed != $n"; rc=1; }
	# The dropped ones' children are still told apart at their wakeup.
	[ "$(counter first_run.worker.lat_sum_ns)" = 0 ] ||
		{ echo "vfork children counted as workers"; rc=1; }
	unload || rc=1
	return $rc
}

# tools/clonestat record: the command's process tree only, exactly,
# while every CPU forks outside it; the command's exit status; filters
# put back.
t_record_tool() {
	local tool out rc v want got
	tool=$(dirname "$(readlink -f "$0")")/../tools/clonestat
	insmod "$ko" || return 1
	[ -e /sys/fs/cgroup/cgroup.procs ] || mount -t cgroup2 none /sys/fs/cgroup ||
		{ echo "no cgroup2"; unload; return 1; }
	echo "filter comm somename" > /proc/clonestat
	storm_start
	# dash forks the background job and vforks the foreground command:
	# 30 + 1 forks, 10 + 1 vforks, 20 threads.
	out=$("$tool" record --json -- sh -c "$progs/clone_workload -f 30 > /dev/null &
		$progs/clone_workload -v 10 -t 20 > /dev/null; wait; exit 3")
	rc=$?
	storm_stop || { unload; return 1; }
	[ $rc = 3 ] || { echo "exit status $rc, not the command's 3"; unload; return 1; }
	for want in fork=31 vfork=11 thread=20 shared_vm=0 namespace=0 other=0; do
		got=$(python3 -c 'import json, sys
print(json.load(sys.stdin)["classes"][sys.argv[1]]["calls"])' "${want%=*}" <<<"$out")
		[ "$got" = "${want#*=}" ] || { echo "${want%=*}: $got, want ${want#*=}"; rc=1; }
	done
	v=$(awk '$1 == "filter.comm" { print $2 }' /proc/clonestat)
	[ "$v" = somename ] || { echo "filter.comm after record: $v"; rc=1; }
	[ -z "$(ls -d /sys/fs/cgroup/clonestat-record-* 2> /dev/null)" ] ||
		{ echo "record left its cgroup"; rc=1; }
	unload || return 1
	[ $rc = 3 ]
}

# Nothing of clonestat is left: module, /proc file, probes.
nothing_left() {
	! loaded || { echo "module still loaded"; return 1; }
	[ ! -e /proc/clonestat ] || { echo "/proc/clonestat left"; return 1; }
	[ ! -s "$kprobes" ] || { echo "probes left:"; cat "$kprobes"; return 1; }
	! hooks_left || { echo "ftrace callbacks left"; return 1; }
}

# Fault injection, where the kernel has it (the debug kernel): the N-th
# fault point of finit_module() fails, for N = 1, 2, ... until a load has
# fewer than N (fail_nth_load says "unfired").  With
# CLONESTAT_TEST_FAIL_NTH_STRIDE=S and _OFFSET=O (1..S), only N = O, O+S,
# O+2S, ...: a slice, which scripts/check moves with the commit so that S
# landings cover every point (make check-faults runs them all).  A failed
# load must be ENOMEM and leave nothing; a load that absorbed its failure must work
# and unload.  Small parameters keep the number of allocations (the
# kretprobe instances: max_inflight each) small.
# The sweep, between markers: the trace events' WARN_ON() on the failures
# injected there is expected (scripts/log-splats lets that one through,
# by its function, and nothing else).
t_fail_nth() {
	local rc
	echo "clonestat-fault-injection-begin" > /dev/kmsg
	fail_nth_sweep
	rc=$?
	echo "clonestat-fault-injection-end" > /dev/kmsg
	return $rc
}

fail_nth_sweep() {
	local n out first fails=0 absorbed=0 loads=0 fs=/sys/kernel/debug/failslab
	local fp=/sys/kernel/debug/fail_page_alloc
	local stride=${CLONESTAT_TEST_FAIL_NTH_STRIDE:-1}
	local offset=${CLONESTAT_TEST_FAIL_NTH_OFFSET:-1}
	[[ $stride =~ ^[1-9][0-9]*$ && $offset =~ ^[1-9][0-9]*$ && $offset -le $stride ]] ||
		{ echo "stride $stride, offset $offset: want 1 <= offset <= stride"; return 1; }
	n=$((offset - stride))
	# CLONESTAT_TEST_FAIL_NTH_PARAMS adds parameters (steps=1: step
	# timing's allocations and kretprobes too).
	local params="max_inflight=64 cow_bills=64 task_slots=16 worst_slots=1${CLONESTAT_TEST_FAIL_NTH_PARAMS:+ $CLONESTAT_TEST_FAIL_NTH_PARAMS}"
	echo N > "$fs/ignore-gfp-wait"
	echo N > "$fp/ignore-gfp-wait"
	echo 0 > "$fs/verbose"
	echo 0 > "$fp/verbose"
	while :; do
		n=$((n + stride))
		loads=$((loads + 1))
		out=$("$progs/fail_nth_load" $n "$ko" "$params")
		case $out in
		"loaded unfired")
			rmmod clonestat || { echo "rmmod after $n failed"; return 1; }
			break ;;
		"loaded fired")
			# A load that absorbed its failure works.
			absorbed=$((absorbed + 1))
			read -r first < /proc/clonestat
			[ "$first" = "clonestat version 1" ] ||
				{ echo "fail-nth $n: loaded, but /proc/clonestat unreadable"; return 1; }
			rmmod clonestat || { echo "rmmod after fail-nth $n failed"; return 1; } ;;
		"failed ENOMEM fired")
			fails=$((fails + 1))
			nothing_left || { echo "after fail-nth $n"; return 1; } ;;
		*)
			echo "fail-nth $n: $out"; nothing_left; return 1 ;;
		esac
	done
	echo "fault points $offset to $((n - stride)) in steps of $stride: $((loads - 1)) loads, $fails failed with ENOMEM and left nothing, $absorbed absorbed the failure"
	# A sweep that never made a load fail tested nothing.
	[ $fails -gt 0 ] || { echo "no failure was injected: fail-nth had no effect"; return 1; }
}

# kmemleak, where the kernel has it: no new leak since the tests began.
t_kmemleak() {
	local k=/sys/kernel/debug/kmemleak out
	echo scan > "$k"
	sleep 6		# kmemleak reports objects at least 5 s old
	echo scan > "$k"
	out=$(cat "$k")
	[ -z "$out" ] || { echo "$out" | head -n 60; return 1; }
}

# selftests/params_test.sh: what needs the module loaded with other
# parameters, one case a check.
t_params() { "$here/params_test.sh" "$ko" "$progs" "$@"; }

t_tools() { insmod "$ko" || return 1; "$here/tools_test.sh" "$progs" "$ko"; local rc=$?; unload || rc=1; return $rc; }
t_exporter() { insmod "$ko" || return 1; "$here/exporter_test.sh" "$progs"; local rc=$?; unload || rc=1; return $rc; }
t_trace_events() { insmod "$ko" || return 1; "$here/trace_events_test.sh" "$progs"; local rc=$?; unload || rc=1; return $rc; }
# Real applications: PostgreSQL under pgbench -C, a parallel build.
t_pgbench() { insmod "$ko" || return 1; "$here/pgbench_test.sh" 50; local rc=$?; unload || rc=1; return $rc; }
t_make() { insmod "$ko" || return 1; "$here/make_test.sh" 8; local rc=$?; unload || rc=1; return $rc; }
# selftests/steps_test.sh: step timing, one case a check.
t_steps() { insmod "$ko" || return 1; "$here/steps_test.sh" "$progs" "$ko" "$1"; local rc=$?; unload || rc=1; return $rc; }

# The C tests, with the module loaded; their results are renumbered into
# this TAP stream.  The program's plan ("1..N") and exit status are
# judged too: a harness that dies after k of N tests, or exits non-zero
# with no failed test, is a failure.
run_prog() {
	local prog=$1 line rest results=0 fails=0 plan= status= t0 test=
	selected "$prog" || return 0
	if ! insmod "$ko"; then
		not_ok "$prog: insmod failed"
		return
	fi
	t0=${EPOCHREALTIME/./}
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ )?ok\ [0-9]+\ (.*)$ ]]; then
			results=$((results + 1))
			rest=${BASH_REMATCH[2]}
			if [ -n "${BASH_REMATCH[1]}" ]; then
				fails=$((fails + 1))
				not_ok "$prog: $rest"
			elif [[ $rest == "# SKIP"* ]]; then
				# The harness names no test on a skip: its RUN line did.
				skip "$prog: $test" "${rest#"# SKIP "}"
			elif [[ $rest == *"# SKIP"* ]]; then
				skip "$prog: ${rest%% # SKIP*}" "${rest#*# SKIP }"
			else
				ok "$prog: $rest"
			fi
			# Each test's time: from its harness's RUN line.
			took "$t0"
		elif [[ $line =~ ^1\.\.([0-9]+)$ ]]; then
			plan=${BASH_REMATCH[1]}
		elif [[ $line =~ ^@@exit\ ([0-9]+)$ ]]; then
			status=${BASH_REMATCH[1]}
		elif [[ $line != "TAP version"* ]]; then
			if [[ $line =~ ^#\ \ RUN\ +([^ ]+) ]]; then
				test=${BASH_REMATCH[1]} t0=${EPOCHREALTIME/./}
			fi
			echo "# $line"
		fi
	done < <("$progs/$prog" 2>&1; echo "@@exit $?")
	unload || not_ok "$prog: rmmod failed"
	[ -n "$plan" ] && [ "$results" -eq "$plan" ] ||
		not_ok "$prog: planned ${plan:-no} tests, reported $results"
	# kselftest: 0 when all passed or skipped, 1 when one failed.
	[ "$status" = 0 ] || { [ "$status" = 1 ] && [ $fails -gt 0 ]; } ||
		not_ok "$prog: exit status ${status:-unknown} with $fails failed tests"
}

case $set in
main)
	check "load and unload $load_cycles times" t_load_unload
	check "bad module parameters fail the load with EINVAL and a reason" t_bad_params
	check "root only by default; read_gid opens reading to one group" t_read_gid
	check "storm with readers, resets, filters, disable/enable" t_storm_with_readers_and_writers
	if [ -w /sys/devices/system/cpu/cpu1/online ]; then
		check "CPU 1 offline and online 10 times during a storm" t_hotplug_during_storm
	else
		skip "CPU hotplug during a storm" "no second CPU that can go offline"
	fi
	check "counts exact with every CPU creating at once" t_exact_under_load
	check "above max_inflight: every vfork counted, overflow counted as drops" t_drops_are_counted
	check "a filter change records nothing in flight across it" t_filter_change_in_flight
	check "clonestat record: exact counts of the command's tree while others fork" t_record_tool
	check "clonestat tools: show, snapshot, diff, top exact; one-line errors" t_tools
	check "exporter: exact series and every bucket in node_exporter's /metrics; fixed series; --interval renames whole files" t_exporter
	check "trace events: the workloads' exact events, one first run and COW bill per child, fields as counted" t_trace_events
	check "steps: off attaches nothing; on, a kretprobe a step function; steps=1 from the load" t_steps off
	check "steps: exact calls a class and step, adding up to the copy and mm phases" t_steps exact
	check "PostgreSQL: pgbench -C, one fork of the postmaster a logged connection, each step-timed and billed" t_pgbench
	check "make -j2: creations by class as task_newtask's events, make's vforks and gcc's rows the compiler runs" t_make
	if [ -w /proc/self/fail-nth ] && [ -d /sys/kernel/debug/failslab ]; then
		check "every allocation at load made to fail: ENOMEM, nothing left" t_fail_nth
	else
		skip "fault injection at load" "this kernel has no fail-nth/failslab"
	fi
	check "support table: mm phase, COW method and hook kinds as README's row for this kernel" t_params table
	check "COW: a child's copies exact in its row and bill; a filtered-out child's billed to the recorded fork" t_params cow
	check "cow_latency=1: do_wp_page probed, every COW fault timed" t_params cow_latency
	check "cow=0: nothing of COW following attached or counted, creations still exact" t_params cow_off
	if [ -d /sys/kernel/mm/transparent_hugepage ]; then
		check "huge-page COW: the child's faults split, the parent's reuse, counted exactly" t_params thp
	else
		check "no THP: the cow section says huge-page COW is not followed" t_params thp
		skip "huge-page COW counted" "no /sys/kernel/mm/transparent_hugepage: this kernel has no THP"
	fi
	check "a 17th filter tgid fails with ENOSPC and changes nothing" t_params enospc
	if [ "$(nproc)" -ge 2 ]; then
		check "max_inflight=64, 100 children not yet run: drops.child, every fork counted" t_params drops_child
	else
		skip "drops.child overflow" "needs two CPUs"
	fi
	check "cow_bills=64, 100 forked children alive: drops.bill, each bill exact" t_params drops_bill
	check "max_inflight=64, 200 vfork parents at once: missed.kernel_clone, the rest counted" t_params missed
	check "self_sample=0 times every handler call, the default one in 64 a CPU" t_params self_sample
	check "/proc/clonestat exists while loaded, starts with the version, gone after" t_proc_lifecycle
	check "kretprobe listed in debugfs while loaded and not after" t_kprobe_listed
	check "hooks attached as /proc/clonestat says, none left after unload" t_hooks_listed
	check "a probe on a missing symbol fails the load and leaves nothing" t_bad_symbol
	run_prog clonestat_test
	;;
storm)
	check "control: the kernel's own kprobe_events, $control_cycles cycles during a storm" \
		t_kprobe_events_control
	check "$storm_cycles load/unload cycles during a storm, with readers, resets and filters" \
		t_reload_storm
	check "unload while vfork parents wait inside kernel_clone()" t_unload_with_vfork_parents
	if [ "$(nproc)" -ge 2 ]; then
		check "unload while new children wait for their first run" \
			t_unload_with_waiting_children
	else
		skip "unload while new children wait for their first run" "needs two CPUs"
	fi
	check "after the storm, a fresh load counts a workload exactly" t_exact_after_storm
	;;
steps)
	# Under -icount (scripts/check): guest time counts instructions, so
	# that two tools' shares of one workload compare.
	check "steps against function_graph: calls equal, shares within 25 %" t_steps ftrace
	;;
*)
	echo "Bail out! CLONESTAT_TEST_SET=$set: not main, storm or steps"
	exit 2
	;;
esac

if [ -e /sys/kernel/debug/kmemleak ]; then
	check "kmemleak: no leak since the tests began" t_kmemleak
else
	skip "kmemleak" "this kernel has no kmemleak"
fi

# scripts/log-splats says what fails: a BUG, Oops, WARNING, KASAN or UBSAN
# report, a stall, a lockup, a hung task; in the fail-nth sweep, every
# warning but the trace events' own on the failures injected there.
t_kernel_log() {
	dmesg | sed -n "/$mark/,\$p" | awk -f "$here/../scripts/log-splats"
}
check "kernel log clean since the tests began" t_kernel_log

echo "1..$n"
[ "$failed" -eq 0 ]
