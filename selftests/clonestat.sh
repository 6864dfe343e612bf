#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load clonestat, test it, unload it; TAP on stdout.  Needs root and a
# kernel with kprobes: run it inside the VM (make check does).
#
# usage: clonestat.sh [MODULE.ko [TEST_PROG_DIR]]
#   defaults: $CLONESTAT_BUILD/module/clonestat.ko and $CLONESTAT_BUILD

set -u
ksft_skip=4
build=${CLONESTAT_BUILD:-$(dirname "$(readlink -f "$0")")}
ko=${1:-$build/module/clonestat.ko}
progs=${2:-$build}
kprobes=/sys/kernel/debug/kprobes/list

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP ${2:-}"; }
diag() { sed 's/^/# /'; }
check() { # check NAME CMD...: one TAP line for the outcome of CMD
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; fi
	[ -n "$out" ] && diag <<<"$out"
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

loaded() { [ -d /sys/module/clonestat ]; }
unload() { ! loaded || rmmod clonestat; }
cleanup() { loaded && rmmod clonestat; }
trap cleanup EXIT

# The kernel log is judged from here on, not from boot.
mark="clonestat-selftest-start-$$-$RANDOM"
echo "$mark" > /dev/kmsg

# The offset is 0, or 4 past an IBT endbr64 (6.12 and later).
probe_listed() { grep -qE '^[0-9a-f]+ +r +kernel_clone\+0x[0-9a-f]+ ' "$kprobes"; }

t_load_unload() {
	local i
	for i in $(seq 20); do
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

check "load and unload 20 times" t_load_unload
check "/proc/clonestat exists while loaded, starts with the version, gone after" t_proc_lifecycle
check "kretprobe listed in debugfs while loaded and not after" t_kprobe_listed
check "a probe on a missing symbol fails the load and leaves nothing" t_bad_symbol

# The C tests, with the module loaded; their results are renumbered into
# this TAP stream.
run_prog() {
	local prog=$1 line rest seen=0
	if ! insmod "$ko"; then
		not_ok "$prog: insmod failed"
		return
	fi
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ )?ok\ [0-9]+\ (.*)$ ]]; then
			seen=1
			rest=${BASH_REMATCH[2]}
			if [ -n "${BASH_REMATCH[1]}" ]; then
				not_ok "$prog: $rest"
			elif [[ $rest == *"# SKIP"* ]]; then
				skip "$prog: ${rest%% # SKIP*}" "${rest#*# SKIP}"
			else
				ok "$prog: $rest"
			fi
		elif [[ $line != "TAP version"* && $line != 1..* ]]; then
			echo "# $line"
		fi
	done < <("$progs/$prog" 2>&1; echo "exit status $?")
	unload || not_ok "$prog: rmmod failed"
	[ "$seen" = 1 ] || not_ok "$prog: printed no results"
}
run_prog clonestat_test

check "kernel log clean since the tests began" bash -c "
	dmesg | sed -n '/$mark/,\$p' | grep -E 'BUG:|WARNING:|Oops|general protection|UBSAN:|Call Trace' && exit 1
	exit 0"

echo "1..$n"
[ "$failed" -eq 0 ]
