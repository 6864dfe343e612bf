#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# README claims about module parameters, limits and the support table
# that the rest of the suite does not exercise, each against a workload
# of known size (clone_workload).  In the VM, as root, with clonestat NOT
# loaded: each case loads the module with the parameters it needs and
# unloads it.  Prints what it checked.
#
# usage: params_test.sh MODULE.ko PROGS_DIR [CASE...]
#   CASE (default: all of them, in this order):
#   table        mm phase, COW method and hook kinds: README's row for `uname -r`
#   cow          a child's COW copies exact, in its row and its fork's bill;
#                a filtered-out child's copies charged to the recorded fork
#   cow_latency  cow_latency=1: do_wp_page probed, every COW fault timed
#   cow_off      cow=0: no COW following at all, creations still counted
#   thp          huge-page COW: thp_splits and thp_reuses exact (kernels
#                without THP: the module says it cannot follow them)
#   enospc       a 17th "filter tgid" fails with ENOSPC and changes nothing
#   drops_child  max_inflight=64, 100 children woken and not run: drops.child
#   drops_bill   cow_bills=64, 100 forked children alive: drops.bill
#   missed       max_inflight=64, 200 vfork parents at once: missed.kernel_clone
#   self_sample  self_sample=0 times every handler call, the default one
#                in 64 on each CPU
# Exit status: 0 when every case passed (a case may skip a part this
# kernel cannot do, saying why), 1 when one failed, 4 when every case
# asked for was skipped whole, 2 on a usage error.

set -u
usage="usage: params_test.sh MODULE.ko PROGS_DIR [CASE...]"
ko=${1:?$usage}
progs=${2:?$usage}
shift 2
top=$(dirname "$(dirname "$(readlink -f "$0")")")
wl=$progs/clone_workload
kprobes=/sys/kernel/debug/kprobes/list
enabled_functions=/sys/kernel/tracing/enabled_functions
thp_dir=/sys/kernel/mm/transparent_hugepage
all_cases=(table cow cow_latency cow_off thp enospc drops_child drops_bill missed self_sample)
ncpu=$(getconf _NPROCESSORS_ONLN)
# A write to a pipe whose reader is gone fails; it does not kill us.
trap '' PIPE

[ "$(id -u)" -eq 0 ] || { echo "params_test.sh needs root"; exit 1; }
[ -f "$ko" ] || { echo "no module at $ko"; exit 1; }
[ -x "$wl" ] || { echo "no $wl"; exit 1; }
[ -d /sys/module/clonestat ] &&
	{ echo "clonestat is loaded: params_test.sh loads it itself, with each case's parameters"; exit 1; }
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
tmp=$(mktemp -d)

# ---------------------------------------------------------------------
# Reporting: each case prints what it checked; fail marks the case failed.
case_rc=0 case_skipped=0
say() { echo "  $*"; }
fail() { echo "  FAIL: $*"; case_rc=1; }
skip_part() { echo "  SKIP: $*"; case_skipped=1; }
# is WHAT GOT WANT
is() {
	if [ "$2" = "$3" ]; then say "$1: $2"; else fail "$1: $2, want $3"; fi
}
# within WHAT GOT LO HI
within() {
	if [[ $2 =~ ^-?[0-9]+$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ]; then
		say "$1: $2 (bound $3..$4)"
	else
		fail "$1: $2, want $3..$4"
	fi
}
# at_least WHAT GOT LO
at_least() {
	if [[ $2 =~ ^-?[0-9]+$ ]] && [ "$2" -ge "$3" ]; then
		say "$1: $2 (at least $3)"
	else
		fail "$1: $2, want at least $3"
	fi
}

# ---------------------------------------------------------------------
# Snapshots of /proc/clonestat, taken with shell builtins only: no fork,
# so that the script's own reading never counts as a creation.
#
# snap NAME: the counters into the associative array NAME (plus
# @processes from /proc/stat and @thp_split_pmd from /proc/vmstat), the
# tasks rows into NAME_rows (tgid -> the fields after it: comm, the 8
# classes, lat_sum_ns, lat_max_ns, cow_copies, cow_reuses) and each
# section's lines into NAME_sec (section -> "\nline\nline\n").  Taken
# again until no creation is in flight (calls = ok + failed) and a
# second read agrees on calls, ok and direct: /proc/stat's count, read
# in between, belongs with them.
declare -A A A_rows A_sec B B_rows B_sec C C_rows C_sec Q Q_rows Q_sec
read_proc() {
	local -n _c=$1 _r=${1}_rows _s=${1}_sec
	local line sec= k v f
	_c=() _r=() _s=()
	while IFS= read -r line; do
		case $line in
		"section "*) sec=${line#section }; _s[$sec]=$'\n'; continue ;;
		"") continue ;;
		esac
		[ -n "$sec" ] || continue
		_s[$sec]+="$line"$'\n'
		case $sec in
		counters) _c[${line%% *}]=${line#* } ;;
		tasks)
			[[ $line == "#"* ]] && continue
			read -ra f <<<"$line"
			_r[${f[0]}]="${f[*]:1}" ;;
		esac
	done < /proc/clonestat
}
snap() {
	local -n _n=$1
	local i k v
	for ((i = 0; i < 100; i++)); do
		read_proc "$1"
		while read -r k v; do
			[ "$k" = processes ] && _n[@processes]=$v
		done < /proc/stat
		while read -r k v; do
			[ "$k" = thp_split_pmd ] && _n[@thp_split_pmd]=$v
		done < /proc/vmstat
		read_proc Q
		[ "${_n[calls]-}" = $((${_n[ok]-0} + ${_n[failed]-0})) ] &&
			[ "${_n[calls]-}" = "${Q[calls]-}" ] && [ "${_n[ok]-}" = "${Q[ok]-}" ] &&
			[ "${_n[direct]-}" = "${Q[direct]-}" ] && return 0
	done
	fail "no quiet read of /proc/clonestat in 100 tries (creations in flight all along)"
}
# cv SNAP NAME: REPLY = the counter ("" when absent)
cv() { local -n _a=$1; REPLY=${_a[$2]-}; }
# dv A B NAME: REPLY = B's value less A's (absent: 0)
dv() { local -n _a=$1 _b=$2; REPLY=$((${_b[$3]:-0} - ${_a[$3]:-0})); }
# sum SNAP PREFIX: REPLY = the sum of the counters whose names start so
sum() {
	local -n _a=$1
	local k
	REPLY=0
	for k in "${!_a[@]}"; do
		[[ $k == "$2"* ]] && REPLY=$((REPLY + ${_a[$k]}))
	done
}
# dsum A B PREFIX: REPLY = sum in B less sum in A
dsum() { local x; sum "$1" "$3"; x=$REPLY; sum "$2" "$3"; REPLY=$((REPLY - x)); }
# row SNAP TGID: ROW = its tasks row (ROW[0] comm, [1..8] fork vfork
# thread shared_vm namespace kthread worker other, [9] lat_sum_ns,
# [10] lat_max_ns, [11] cow_copies, [12] cow_reuses); 1 when none
row() {
	local -n _r=${1}_rows
	[ -n "${_r[$2]+x}" ] || return 1
	read -ra ROW <<<"${_r[$2]}"
}
# has_line SNAP SECTION LINE: the section has exactly that line
has_line() { local -n _s=${1}_sec; [[ ${_s[$2]-} == *$'\n'"$3"$'\n'* ]]; }
expect_line() {
	if has_line "$1" "$2" "$3"; then say "section $2 says '$3'"
	else fail "section $2 lacks '$3'"; fi
}
expect_no_line() {
	if has_line "$1" "$2" "$3"; then fail "section $2 says '$3'"
	else say "section $2 does not say '$3'"; fi
}
# hook_lines SNAP: HOOK[sym] = how the probes and cow sections say a
# hook is attached ("ftrace callback" or "kprobe")
declare -A HOOK
hook_lines() {
	local -n _s=${1}_sec
	local line re='^# ([a-z_]+): (ftrace callback|kprobe)$'
	HOOK=()
	while IFS= read -r line; do
		[[ $line =~ $re ]] && HOOK[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
	done <<<"${_s[probes]-}${_s[cow]-}"
}

# ---------------------------------------------------------------------
# The module, its control file, the workload.
loaded() { [ -d /sys/module/clonestat ]; }
load() {
	local out
	out=$(insmod "$ko" "$@" 2>&1) || { fail "insmod${*:+ $*}: $out"; return 1; }
	say "loaded clonestat${*:+ with $*}"
}
unload() { ! loaded || rmmod clonestat || { fail "rmmod failed"; return 1; }; }
ctl() { echo "$1" > /proc/clonestat || { fail "writing '$1' failed"; return 1; }; }
param() { local v; read -r v < "/sys/module/clonestat/parameters/$1"; REPLY=$v; }

# cow64: from a reset, under "filter comm clone_workload", snapshots A
# and B around one child that copies exactly 64 pages; REPLY = its pid.
cow64() {
	local child
	ctl "filter comm clone_workload" && ctl reset || return
	snap A
	run_wl -C 64 || return
	cow_child || return
	child=$REPLY
	snap B
	REPLY=$child
}

# child_billed CHILD PAGES: between snapshots A and B, CHILD copied
# exactly PAGES pages, none reused, in its row and on its fork's bill.
child_billed() {
	if row B "$1"; then
		is "child $1's row: cow_copies" "${ROW[11]}" "$2"
		is "child $1's row: cow_reuses" "${ROW[12]}" 0
	else
		fail "no row for the child $1"
	fi
	dv A B bill.fork.forks; is "bill.fork.forks" "$REPLY" 1
	dv A B bill.fork.child_copies; is "bill.fork.child_copies" "$REPLY" "$2"
}

# run_wl ARGS...: the workload, to the end; WL = its output lines
run_wl() {
	"$wl" "$@" > "$tmp/wl.out" 2> "$tmp/wl.err"
	local rc=$?
	mapfile -t WL < "$tmp/wl.out"
	[ $rc = 0 ] && return 0
	fail "clone_workload $* exited $rc: $(< "$tmp/wl.err")"
	return 1
}
# cow_child: REPLY = the pid in WL's first "cow child PID" line
cow_child() {
	local l
	REPLY=
	for l in "${WL[@]}"; do
		[[ $l =~ ^cow\ child\ ([0-9]+)$ ]] && { REPLY=${BASH_REMATCH[1]}; return 0; }
	done
	fail "the workload named no COW child"
	return 1
}

# spawn NAME CMD...: CMD in the background, its stdin and stdout on
# pipes, its stderr in $tmp/NAME.err.
declare -A sp_pid sp_to sp_from
spawn() {
	local name=$1 d to from
	shift
	d=$(mktemp -d) && mkfifo "$d/in" "$d/out" || return 1
	"$@" < "$d/in" > "$d/out" 2> "$tmp/$name.err" &
	sp_pid[$name]=$!
	exec {to}> "$d/in" {from}< "$d/out"
	sp_to[$name]=$to sp_from[$name]=$from
	rm -rf "$d"
}
# hear NAME REGEX: read NAME's next line into REPLY; 1 (and say what
# came) unless it matches
hear() {
	REPLY=
	if ! read -r -t 900 REPLY <&"${sp_from[$1]}"; then
		fail "$1: no line (wanted /$2/): $(cat "$tmp/$1.err" 2> /dev/null)"
		return 1
	fi
	[[ $REPLY =~ $2 ]] && return 0
	fail "$1 said '$REPLY', not /$2/"
	return 1
}
tell() { echo "${2:-go}" >&"${sp_to[$1]}"; }
# finish NAME: EOF on its stdin, the rest of its output in WL, wait for
# it; 1 (and say so) when it failed
finish() {
	local name=$1 rc line to from
	[ -n "${sp_pid[$name]-}" ] || return 1
	to=${sp_to[$name]} from=${sp_from[$name]}
	exec {to}>&-
	WL=()
	while IFS= read -r -t 900 line <&"$from"; do
		WL+=("$line")
	done
	wait "${sp_pid[$name]}"
	rc=$?
	exec {from}<&-
	unset "sp_pid[$name]" "sp_to[$name]" "sp_from[$name]"
	[ $rc = 0 ] && return 0
	fail "$name exited $rc: $(cat "$tmp/$name.err" 2> /dev/null)"
	return 1
}
# Whatever a case left: spawned workloads, sleepers, THP settings, the
# module, the CPU affinity.
sleepers=()
thp_saved=()
cleanup_case() {
	local n to from
	for n in "${!sp_pid[@]}"; do
		kill "${sp_pid[$n]}" 2> /dev/null
		to=${sp_to[$n]} from=${sp_from[$n]}
		exec {to}>&- {from}<&-
		wait "${sp_pid[$n]}" 2> /dev/null
		unset "sp_pid[$n]" "sp_to[$n]" "sp_from[$n]"
	done
	if [ ${#sleepers[@]} -gt 0 ]; then
		kill "${sleepers[@]}" 2> /dev/null
		wait "${sleepers[@]}" 2> /dev/null
		sleepers=()
	fi
	if [ ${#thp_saved[@]} -gt 0 ]; then
		echo "${thp_saved[0]}" > "$thp_dir/enabled"
		echo "${thp_saved[1]}" > "$thp_dir/defrag"
		thp_saved=()
	fi
	taskset -pc "0-$((ncpu - 1))" $BASHPID > /dev/null 2>&1
	unload
}
trap 'cleanup_case > /dev/null 2>&1; rm -rf "$tmp"' EXIT

# ---------------------------------------------------------------------
# README's support table ("## Supported kernels"): the row for a release.
trim() {
	REPLY=$1
	REPLY=${REPLY#"${REPLY%%[![:space:]]*}"}
	REPLY=${REPLY%"${REPLY##*[![:space:]]}"}
}
# family RELEASE: REPLY = the release without its point release and
# Debian's ABI number (6.1.0-57-amd64 and 6.1.0-56-amd64: 6.1-amd64;
# 6.12.118+deb13-amd64: 6.12-amd64), so that a new ABI of the same
# kernel finds its row.
family() {
	local re='^([0-9]+\.[0-9]+)[.0-9]*(\+[a-z0-9]+)?-(.*)$' ver rest
	REPLY=$1
	[[ $1 =~ $re ]] || return 0
	ver=${BASH_REMATCH[1]} rest=${BASH_REMATCH[3]}
	[[ $rest =~ ^[0-9]+-(.*)$ ]] && rest=${BASH_REMATCH[1]}
	REPLY=$ver-$rest
}
# table_row RELEASE: T_MM, T_COW (without backticks), T_HOOKS (as
# written; "as X" is the hooks cell of the first row whose kernel
# begins with "X.") and T_STEPS (as written).  1 when the table has no
# row for RELEASE's family.
table_row() {
	local line in= i want=$1 ref k
	local -a cells kern mm cow hooks steps
	while IFS= read -r line; do
		case $line in
		"## Supported kernels"*) in=1; continue ;;
		"## "*) [ -n "$in" ] && break; continue ;;
		esac
		[ -n "$in" ] && [[ $line == "| "* ]] || continue
		IFS='|' read -ra cells <<<"$line"
		trim "${cells[1]}"; k=${REPLY//\`/}
		[[ $k == kernel || $k == -* ]] && continue
		kern+=("$k")
		trim "${cells[3]}"; mm+=("${REPLY//\`/}")
		trim "${cells[4]}"; cow+=("${REPLY//\`/}")
		trim "${cells[5]}"; hooks+=("$REPLY")
		trim "${cells[6]}"; steps+=("$REPLY")
	done < "$top/README.md"
	family "$want"
	want=$REPLY
	for i in "${!kern[@]}"; do
		family "${kern[$i]}"
		[ "$REPLY" = "$want" ] || continue
		T_MM=${mm[$i]} T_COW=${cow[$i]} T_HOOKS=${hooks[$i]} T_STEPS=${steps[$i]}
		if [[ $T_HOOKS == "as "* ]]; then
			ref=${T_HOOKS#as }
			for k in "${!kern[@]}"; do
				[[ ${kern[$k]} == "$ref."* ]] && { T_HOOKS=${hooks[$k]}; break; }
			done
		fi
		return 0
	done
	return 1
}
# hook_kinds CELL: HK_DEFAULT ("ftrace callback" or "kprobe") and
# HK_EXC[sym] for each "`sym` a kprobe" in the cell; 1 if unreadable
declare -A HK_EXC
hook_kinds() {
	local rest=$1 re='`([a-z_]+)` a kprobe'
	HK_EXC=()
	case $rest in
	"ftrace callbacks"*) HK_DEFAULT="ftrace callback" ;;
	kprobes*) HK_DEFAULT=kprobe ;;
	*) return 1 ;;
	esac
	while [[ $rest =~ $re ]]; do
		HK_EXC[${BASH_REMATCH[1]}]=kprobe
		rest=${rest#*"${BASH_REMATCH[0]}"}
	done
}
kretprobe_listed() { grep -qE "^[0-9a-f]+ +r +$1\+0x[0-9a-f]+ " "$kprobes"; }
kprobe_listed() { grep -qE "^[0-9a-f]+ +k +$1\+0x[0-9a-f]+ " "$kprobes"; }
callback_listed() { grep -qE "^$1 .*\[clonestat\]" "$enabled_functions"; }

# ---------------------------------------------------------------------
# The cases.

declare -A desc=(
	[table]="mm phase, COW method, hook kinds and step functions are README's support-table row for this kernel"
	[cow]="a child's COW copies exact in its row and its fork's bill; a filtered-out child's charged to the recorded fork"
	[cow_latency]="cow_latency=1: do_wp_page probed, every COW fault timed, counts unchanged"
	[cow_off]="cow=0: nothing of COW following attached or counted, creations still counted"
	[thp]="huge-page COW: the child's writes split (thp_splits), the parent's afterwards reuse (thp_reuses)"
	[enospc]="a 17th 'filter tgid' fails with ENOSPC and changes nothing"
	[drops_child]="max_inflight=64 and 100 children woken, none run yet: drops.child, every fork counted"
	[drops_bill]="cow_bills=64 and 100 forked children alive: drops.bill, every bill exact"
	[missed]="max_inflight=64 (128 kretprobe instances) and 200 vfork parents at once: missed.kernel_clone"
	[self_sample]="self_sample=0 times every handler call; the default, one in 64 on each CPU"
)

# The support table's row for the running kernel against what
# /proc/clonestat says, and each hook where it says it is.
case_table() {
	local rel sym want got m n re
	local -a marks mm_marks expect
	rel=$(uname -r)
	table_row "$rel" || { fail "README.md's support table has no row for $rel"; return; }
	say "README's row for $rel: mm phase $T_MM; COW method $T_COW; hooks: $T_HOOKS; steps: $T_STEPS"
	hook_kinds "$T_HOOKS" || { fail "cannot read the hooks cell '$T_HOOKS'"; return; }
	load || return
	snap A
	cv A mm_copy_probe; is "mm_copy_probe" "$REPLY" "$T_MM"
	cv A cow.method; is "cow.method" "$REPLY" "$T_COW"
	# The mm phase: two markers (hooks, which miss nothing: "-"), or a
	# kretprobe with its count of misses.
	IFS=+ read -ra mm_marks <<<"$T_MM"
	[ ${#mm_marks[@]} -gt 1 ] && re='-' || re='[0-9]+'
	for m in "${mm_marks[@]}"; do
		[[ ${A_sec[probes]-} =~ $'\n'"$m"\ +phase_mm\ +$re$'\n' ]] &&
			say "section probes: $m times phase_mm" ||
			fail "section probes has no '$m phase_mm $re' line"
	done
	# The hooks: schedule_tail, exit_mmap, the mm phase's markers and
	# the COW method's.
	IFS=+ read -ra marks <<<"$T_COW"
	expect=(schedule_tail exit_mmap)
	[ ${#mm_marks[@]} -gt 1 ] && expect+=("${mm_marks[@]}")
	for m in "${marks[@]}"; do
		[ "$m" = do_wp_page ] || expect+=("$m")
	done
	hook_lines A
	for sym in "${expect[@]}"; do
		want=${HK_EXC[$sym]:-$HK_DEFAULT}
		got=${HOOK[$sym]:-"not listed"}
		is "hook $sym" "$got" "$want"
		case $got in
		"ftrace callback")
			callback_listed "$sym" && say "  $sym: a clonestat callback in enabled_functions" ||
				fail "$sym: no clonestat callback in $enabled_functions" ;;
		kprobe)
			kprobe_listed "$sym" && say "  $sym: a kprobe in the kprobes list" ||
				fail "$sym: not in $kprobes" ;;
		esac
	done
	for sym in "${!HOOK[@]}"; do
		[[ " ${expect[*]} " == *" $sym "* ]] || fail "hook $sym listed, not expected with $T_COW"
	done
	if [[ $T_COW == do_wp_page+* ]]; then
		kretprobe_listed do_wp_page && say "do_wp_page: a kretprobe in the kprobes list" ||
			fail "do_wp_page: no kretprobe listed, with method $T_COW"
	else
		kretprobe_listed do_wp_page && fail "do_wp_page probed, with method $T_COW" ||
			say "do_wp_page: not probed"
	fi
	# Step timing: as many step functions as the steps cell's first
	# number, and none of those it names.
	ctl "steps on" || return
	snap C
	m=$(grep -cE '^[a-z_0-9]+ +step\.' <<<"${C_sec[probes]-}")
	is "step functions probed, steps on" "$m" "${T_STEPS%% *}"
	for sym in $(grep -o '`[a-z_0-9]*`' <<<"$T_STEPS" | tr -d '`'); do
		if grep -qE "^$sym +step\." <<<"${C_sec[probes]-}"; then
			fail "$sym probed for a step; the steps cell says it is not"
		else
			grep -qE "^# step\.[a-z_]+: not probed \($sym: " <<<"${C_sec[probes]-}" &&
				say "$sym: not probed, and the probes section says why" ||
				fail "$sym: no '# step...: not probed ($sym: ...' line"
		fi
	done
	ctl "steps off" || return
	for sym in dup_mmap copy_page_range; do
		if [[ $T_MM == "$sym" ]]; then
			kretprobe_listed "$sym" && say "$sym: a kretprobe in the kprobes list" ||
				fail "$sym: no kretprobe listed, with mm phase $T_MM"
		else
			kretprobe_listed "$sym" && fail "$sym kretprobed, with mm phase $T_MM" ||
				say "$sym: not probed"
		fi
	done
	# The mm phase's start fires once per fork (dup_mmap or its marker),
	# or once per VMA (copy_page_range): this shell's fork of the
	# workload and its 10.
	ctl "filter comm clone_workload" || return
	snap A
	run_wl -f 10 || return
	snap B
	dv A B class.fork.calls; is "class.fork.calls, after 10 forks" "$REPLY" 10
	dv A B missed.mm_copy; is "missed.mm_copy" "$REPLY" 0
	dv A B class.fork.mm_ns; at_least "class.fork.mm_ns of those 10 forks" "$REPLY" 1
	dv A B self.mm_copy.entry.hits
	if [ "$T_MM" != copy_page_range ]; then
		is "$T_MM hits (11 forks: the shell's and the workload's 10)" "$REPLY" 11
	else
		at_least "$T_MM probe hits (once per VMA of 11 forks)" "$REPLY" 11
	fi
}

# -C 64: the child writes 64 pages and nothing else private: 64 copies.
# COW counts of the default load (cow_latency=0).
case_cow() {
	local pid child method n timed faults
	load || return
	cow64 || return
	child=$REPLY
	dv A B class.fork.calls; is "class.fork.calls" "$REPLY" 1
	child_billed "$child" 64
	dv A B hist.cow_pages_per_fork.fork.64; is "hist.cow_pages_per_fork.fork.64" "$REPLY" 1
	for n in drops.cow drops.bill missed.do_wp_page; do
		dv A B $n; is "$n" "$REPLY" 0
	done
	# Untimed with both markers alone (cow_latency=0), timed otherwise.
	cv B cow.method; method=$REPLY
	dsum A B hist.cow_latency.; timed=$REPLY
	dv A B cow.copies; faults=$REPLY
	dv A B cow.reuses; faults=$((faults + REPLY))
	dv A B cow.other; faults=$((faults + REPLY))
	if [[ $method != do_wp_page+* ]]; then
		expect_line B cow "# COW faults untimed: cow_latency=1 times them (costs more)"
		is "COW faults timed (hist.cow_latency), method $method" "$timed" 0
		dv A B cow.lat_sum_ns; is "cow.lat_sum_ns" "$REPLY" 0
	else
		expect_no_line B cow "# COW faults untimed: cow_latency=1 times them (costs more)"
		is "COW faults timed (hist.cow_latency) = faults recorded, method $method" "$timed" "$faults"
		dv A B cow.lat_sum_ns; at_least "cow.lat_sum_ns" "$REPLY" 1
	fi

	# The same with the filter naming the parent only: the child's
	# copies are not counted as its own, and are charged to the fork.
	ctl "filter clear" || return
	spawn w "$wl" -P -C 64
	hear w '^ready [0-9]+$' || return
	pid=${REPLY#ready }
	ctl "filter tgid $pid" && ctl reset || return
	snap A
	tell w
	finish w || return
	cow_child || return
	child=$REPLY
	snap B
	say "filter tgid $pid (the parent); its child $child"
	dv A B class.fork.calls; is "class.fork.calls" "$REPLY" 1
	dv A B bill.fork.forks; is "bill.fork.forks" "$REPLY" 1
	dv A B bill.fork.child_copies; is "bill.fork.child_copies (the filtered child's)" "$REPLY" 64
	row B "$child" && fail "a row for the filtered child $child: ${B_rows[$child]}" ||
		say "no row for the filtered child $child"
	cv B tasks.rows; is "tasks.rows (the parent's only)" "$REPLY" 1
	if row B "$pid"; then
		is "the parent's row: fork" "${ROW[1]}" 1
		cv B cow.copies; is "cow.copies = the parent's own (its row's cow_copies)" "$REPLY" "${ROW[11]}"
		# The parent writes a few pages of its own (stack, libc's
		# data) and none of the 64: fewer copies than the child's.
		within "cow.copies (the parent's own, not the child's 64)" "$REPLY" 0 63
		cv B cow.reuses; is "cow.reuses = the parent's own (its row's cow_reuses)" "$REPLY" "${ROW[12]}"
	else
		fail "no row for the parent $pid"
	fi
}

# cow_latency=1: do_wp_page's kretprobe times every fault, even where
# both markers could tell outcomes alone (6.1); counts as without it.
case_cow_latency() {
	local child want timed faults
	load cow_latency=1 || return
	param cow_latency; is "parameters/cow_latency" "$REPLY" Y
	snap A
	if table_row "$(uname -r)"; then
		want=$T_COW
		[[ $want == do_wp_page+* ]] || want=do_wp_page+$want
		cv A cow.method; is "cow.method (README's $T_COW, with do_wp_page)" "$REPLY" "$want"
	else
		cv A cow.method
		[[ $REPLY == do_wp_page+* ]] && say "cow.method: $REPLY" ||
			fail "cow.method: $REPLY, want do_wp_page+... (no README row for $(uname -r))"
	fi
	expect_no_line A cow "# COW faults untimed: cow_latency=1 times them (costs more)"
	kretprobe_listed do_wp_page && say "do_wp_page: a kretprobe in the kprobes list" ||
		fail "do_wp_page: no kretprobe listed"
	cow64 || return
	child=$REPLY
	child_billed "$child" 64
	dsum A B hist.cow_latency.; timed=$REPLY
	dv A B cow.copies; faults=$REPLY
	dv A B cow.reuses; faults=$((faults + REPLY))
	dv A B cow.other; faults=$((faults + REPLY))
	is "COW faults timed (hist.cow_latency) = faults recorded" "$timed" "$faults"
	at_least "COW faults timed" "$timed" 64
	dv A B cow.lat_sum_ns; at_least "cow.lat_sum_ns" "$REPLY" 1
	dv A B drops.cow; is "drops.cow" "$REPLY" 0
	dv A B missed.do_wp_page; is "missed.do_wp_page" "$REPLY" 0
}

# cow=0: no COW hook, kretprobe or table; creations counted as ever.
case_cow_off() {
	local child pid sym n
	load cow=0 || return
	param cow; is "parameters/cow" "$REPLY" N
	snap A
	cv A cow.method; is "cow.method" "$REPLY" none
	expect_line A cow "# COW following is off: module parameter cow=0"
	hook_lines A
	for sym in wp_page_copy __vmf_anon_prepare wp_page_reuse exit_mmap; do
		[ -n "${HOOK[$sym]-}" ] && fail "hook $sym listed: ${HOOK[$sym]}" || say "hook $sym: not listed"
		callback_listed $sym && fail "$sym: a clonestat callback in enabled_functions"
		kprobe_listed $sym && fail "$sym: a kprobe in the kprobes list"
	done
	[ -n "${HOOK[schedule_tail]-}" ] && say "hook schedule_tail: ${HOOK[schedule_tail]}" ||
		fail "hook schedule_tail not listed"
	for sym in do_wp_page do_huge_pmd_wp_page; do
		kretprobe_listed $sym && fail "$sym: a kretprobe in the kprobes list" ||
			say "$sym: not probed"
	done
	cv A cow.bills_capacity; is "cow.bills_capacity" "$REPLY" 0
	expect_no_line A cow "# no huge-page COW: do_huge_pmd_wp_page cannot be probed (no THP?)"
	ctl "filter comm clone_workload" && ctl reset || return
	snap A
	run_wl -f 5 -C 64 || return
	cow_child || return
	child=$REPLY
	snap B
	dv A B class.fork.calls; is "class.fork.calls (5 forks and the COW fork)" "$REPLY" 6
	for n in cow.copies cow.reuses cow.other cow.thp_reuses cow.thp_splits \
		 bill.fork.forks bill.fork.child_copies bill.fork.parent_copies cow.lat_sum_ns; do
		dv A B $n; is "$n" "$REPLY" 0
	done
	dsum A B hist.cow_latency.; is "hist.cow_latency" "$REPLY" 0
	row B "$child" && fail "a row for the child $child: ${B_rows[$child]}" ||
		say "no row for the child $child (it created nothing, its faults are not followed)"
	pid=
	for n in "${!B_rows[@]}"; do
		row B "$n" && [ "${ROW[0]}" = clone_workload ] && [ "${ROW[1]}" = 6 ] && pid=$n
	done
	if [ -n "$pid" ] && row B "$pid"; then
		is "the workload's row ($pid): cow_copies" "${ROW[11]}" 0
		is "the workload's row ($pid): cow_reuses" "${ROW[12]}" 0
	else
		fail "no clone_workload row with 6 forks"
	fi
}

# Huge-page COW: -T 4, four huge pages.  The child's write to each is a
# huge-page COW fault on a shared huge page: split, then a 4 KiB copy.
# Once the child is gone, the parent's write to each reuses its huge
# page (or splits it: the workload reports how many stayed whole).
case_thp() {
	local v child kept h=4 mode
	if [ ! -d "$thp_dir" ]; then
		load || return
		snap A
		expect_line A cow "# no huge-page COW: do_huge_pmd_wp_page cannot be probed (no THP?)"
		kretprobe_listed do_huge_pmd_wp_page && fail "do_huge_pmd_wp_page: a kretprobe listed" ||
			say "do_huge_pmd_wp_page: not probed"
		cv A cow.thp_reuses; is "cow.thp_reuses" "$REPLY" 0
		cv A cow.thp_splits; is "cow.thp_splits" "$REPLY" 0
		skip_part "huge-page COW counts: no $thp_dir (this kernel has no THP)"
		return
	fi
	load || return
	# Huge pages where asked for only (no other process's COW on one),
	# with direct compaction for them; put back afterwards.
	for v in enabled defrag; do
		read -r mode < "$thp_dir/$v"
		mode=${mode#*\[}
		thp_saved+=("${mode%%\]*}")
	done
	say "THP enabled=${thp_saved[0]} defrag=${thp_saved[1]}: set to madvise, madvise"
	echo madvise > "$thp_dir/enabled" && echo madvise > "$thp_dir/defrag" ||
		{ fail "cannot set THP to madvise"; return; }
	[ -w /proc/sys/vm/compact_memory ] && echo 1 > /proc/sys/vm/compact_memory
	snap A
	expect_no_line A cow "# no huge-page COW: do_huge_pmd_wp_page cannot be probed (no THP?)"
	kretprobe_listed do_huge_pmd_wp_page && say "do_huge_pmd_wp_page: a kretprobe in the kprobes list" ||
		fail "do_huge_pmd_wp_page: no kretprobe listed"
	ctl "filter comm clone_workload" && ctl reset || return
	spawn w "$wl" -P -T $h
	hear w '^ready [0-9]+$' || return
	snap A
	tell w
	hear w '^cow child [0-9]+$' || return
	child=${REPLY#cow child }
	hear w '^child wrote$' || return
	snap B
	say "the child $child wrote one byte in each of $h huge pages shared with its parent"
	dv A B cow.thp_splits; is "cow.thp_splits" "$REPLY" $h
	dv A B cow.thp_reuses; is "cow.thp_reuses" "$REPLY" 0
	[ -n "${B[@thp_split_pmd]-}" ] && { dv A B @thp_split_pmd; is "/proc/vmstat thp_split_pmd (the kernel's count)" "$REPLY" $h; }
	if row B "$child"; then
		is "child $child's row: cow_copies (the 4 KiB copy after each split)" "${ROW[11]}" $h
		is "child $child's row: cow_reuses" "${ROW[12]}" 0
	else
		fail "no row for the child $child"
	fi
	dv A B bill.fork.forks; is "bill.fork.forks" "$REPLY" 1
	dv A B bill.fork.child_copies; is "bill.fork.child_copies" "$REPLY" $h
	tell w
	hear w "^thp $h huge pages, [0-9]+ still huge\$" || return
	kept=${REPLY#*, }
	kept=${kept%% *}
	finish w || return
	snap C
	say "then the parent wrote one byte in each: $kept of $h huge pages still mapped whole"
	dv B C cow.thp_reuses; is "cow.thp_reuses" "$REPLY" "$kept"
	dv B C cow.thp_splits; is "cow.thp_splits" "$REPLY" $((h - kept))
	[ -n "${C[@thp_split_pmd]-}" ] && { dv B C @thp_split_pmd; is "/proc/vmstat thp_split_pmd" "$REPLY" $((h - kept)); }
	[ "$kept" -ge 1 ] || fail "the kernel reused no huge page: thp_reuses is not tested here"
}

# 16 tgids fill the filter; the 17th write fails with ENOSPC, and the
# filter is the 16 it was: the 17th process's creations are still left
# out, one of the 16's still recorded.
case_enospc() {
	local p1 p17 i rc msg want list
	load || return
	spawn w1 "$wl" -P -f 5
	spawn w17 "$wl" -P -f 7
	hear w1 '^ready [0-9]+$' || return
	p1=${REPLY#ready }
	hear w17 '^ready [0-9]+$' || return
	p17=${REPLY#ready }
	for ((i = 0; i < 15; i++)); do
		sleep 600 &
		sleepers+=($!)
	done
	list="$p1 ${sleepers[*]}"
	for i in $list; do
		ctl "filter tgid $i" || return
	done
	say "16 'filter tgid' writes: $list"
	snap A
	want="filter.tgid $list"
	expect_line A control "$want"
	{ echo "filter tgid $p17" > /proc/clonestat; } 2> "$tmp/enospc.err"
	rc=$?
	read -r msg < "$tmp/enospc.err"
	msg=${msg##*: }
	is "the 17th write (tgid $p17): exit status" "$rc" 1
	is "the 17th write: error" "$msg" "No space left on device"
	snap B
	[ "${A_sec[control]}" = "${B_sec[control]}" ] && say "section control unchanged" ||
		fail "section control changed: '${A_sec[control]}' -> '${B_sec[control]}'"
	# Every creation while only the 17th process creates is left out.
	tell w17
	finish w17 || return
	snap C
	dv B C class.fork.calls; is "class.fork.calls after the 17th process's 7 forks" "$REPLY" 0
	dv B C ok; is "ok" "$REPLY" 0
	dv B C @processes; local made=$REPLY
	at_least "tasks made meanwhile (/proc/stat)" "$made" 7
	dv B C ignored.filter; is "ignored.filter = tasks made meanwhile" "$REPLY" "$made"
	# It may have a row from before the filter (its own first run and COW
	# faults, under no filter); its 7 forks must not change it.
	if [ -n "${B_rows[$p17]:-}" ]; then
		is "the 17th process's row, unchanged by its forks" "${C_rows[$p17]:-}" "${B_rows[$p17]}"
	else
		row C "$p17" && fail "a row for the 17th process $p17, made by its filtered forks"
	fi
	tell w1
	finish w1 || return
	snap A
	dv C A class.fork.calls; is "class.fork.calls after the first process's 5 forks" "$REPLY" 5
	if row A "$p1"; then
		is "its row ($p1): fork" "${ROW[1]}" 5
	else
		fail "no row for $p1"
	fi
	ctl "filter clear"
}

# 100 forked children woken and kept from running (-W: SCHED_FIFO on the
# last CPU, the parent spinning) with a 64-slot child table: those that
# found no slot are drops.child, the others have their first run timed.
case_drops_child() {
	local n=100 try ok= saved
	if [ "$ncpu" -lt 2 ]; then
		skip_part "drops.child: -W needs a second CPU for this shell"
		case_skipped=2
		return
	fi
	load max_inflight=64 || return
	ctl "filter comm clone_workload" || return
	# This shell on the first CPU, never behind the workload's spin on the last.
	taskset -pc 0 $BASHPID > /dev/null || { fail "taskset"; return; }
	for try in 1 2 3; do
		ctl reset || return
		snap A
		spawn w "$wl" -W $n
		if ! read -r -t 900 REPLY <&"${sp_from[w]}" || [ "$REPLY" != "waiting $n" ]; then
			saved=$case_rc
			finish w > /dev/null
			case_rc=$saved
			if grep -q "ran before its parent let it" "$tmp/w.err"; then
				say "try $try: a child ran before its parent let it (the parent slept): again"
				# Its children, run now, must be gone before the next reset.
				sleep 2
				continue
			fi
			fail "clone_workload -W $n: '$REPLY' $(cat "$tmp/w.err")"
			return
		fi
		tell w
		finish w || return
		[[ " ${WL[*]} " == *"still waiting at the release"* ]] ||
			{ fail "a child ran before the release: ${WL[*]}"; return; }
		ok=1
		break
	done
	[ -n "$ok" ] || { fail "3 tries, a child ran early in each"; return; }
	taskset -pc "0-$((ncpu - 1))" $BASHPID > /dev/null
	snap B
	say "$n children woken at once, none run, 64 child slots (windows of 16)"
	dv A B class.fork.calls; is "class.fork.calls" "$REPLY" $n
	dv A B drops.child; local drops=$REPLY
	within "drops.child (at most 64 slots held; the first 16 always find one)" "$drops" $((n - 64)) $((n - 16))
	dsum A B hist.first_run.fork.
	is "first runs timed (hist.first_run.fork) + drops.child" $((REPLY + drops)) $n
	dv A B first_run.killed; is "first_run.killed" "$REPLY" 0
	dv A B drops.inflight; is "drops.inflight" "$REPLY" 0
	dv A B missed.kernel_clone; is "missed.kernel_clone" "$REPLY" 0
	dv A B bill.fork.forks; is "bill.fork.forks (every child's bill closed at its exit)" "$REPLY" $n
}

# 100 children (-C 1 -k 100) alive at once, each writing one page of its
# own, with 64 bills: a child with a bill has exactly its one copy on it.
case_drops_bill() {
	local n=100 drops forks t c=0 bad=0
	load cow_bills=64 || return
	ctl "filter comm clone_workload" && ctl reset || return
	snap A
	cv A cow.bills_capacity; is "cow.bills_capacity" "$REPLY" 64
	run_wl -C 1 -k $n || return
	snap B
	say "$n forked children alive at once, each copying one page, 64 bills (windows of 16)"
	dv A B class.fork.calls; is "class.fork.calls" "$REPLY" $n
	dv A B drops.bill; drops=$REPLY
	within "drops.bill (at most 64 bills open; the first 16 always find one)" "$drops" $((n - 64)) $((n - 16))
	dv A B bill.fork.forks; forks=$REPLY
	is "bill.fork.forks + drops.bill" $((forks + drops)) $n
	dv A B bill.fork.child_copies; is "bill.fork.child_copies (one a bill)" "$REPLY" "$forks"
	dv A B hist.cow_pages_per_fork.fork.1; is "hist.cow_pages_per_fork.fork.1" "$REPLY" "$forks"
	cv B cow.bills_open; is "cow.bills_open" "$REPLY" 0
	dv A B drops.cow; is "drops.cow" "$REPLY" 0
	dv A B missed.do_wp_page; is "missed.do_wp_page" "$REPLY" 0
	# Each child's own row: its one copy, bill or not.
	cv B tasks.evictions
	if [ "$REPLY" = 0 ]; then
		for t in "${WL[@]}"; do
			[[ $t =~ ^cow\ child\ ([0-9]+)$ ]] || continue
			c=$((c + 1))
			row B "${BASH_REMATCH[1]}" && [ "${ROW[11]} ${ROW[12]}" = "1 0" ] || bad=$((bad + 1))
		done
		is "children whose row says 1 copy, 0 reuses" $((c - bad)) $n
	else
		say "tasks.evictions $REPLY: the children's rows not checked"
	fi
}

# 200 vfork parents inside kernel_clone() at once (-B 200) with 128
# kretprobe instances: the first 128 to enter are counted (64 of them
# with an in-flight slot), the rest are missed.kernel_clone and counted
# nowhere else.  Every task made is either counted or missed.
case_missed() {
	local n=200 v m made others
	load max_inflight=64 || return
	ctl "filter comm clone_workload" && ctl reset || return
	snap A
	run_wl -B $n || return
	snap B
	say "$n vfork parents at once, 128 kretprobe instances, 64 in-flight slots"
	dv A B class.fork.calls; is "class.fork.calls (the $n processes, made one at a time)" "$REPLY" $n
	dv A B class.vfork.calls; v=$REPLY
	dv A B missed.kernel_clone; m=$REPLY
	dv A B @processes; made=$REPLY
	others=$((made - 2 * n - 1))
	say "tasks made (/proc/stat): $made: the workload's $((2 * n)), the shell's 1, $others others"
	# 128 instances, less those others held (none in a quiet VM).
	within "class.vfork.calls (128 instances)" "$v" $((128 - others)) 128
	at_least "missed.kernel_clone" "$m" $((n - 128))
	within "class.vfork.calls + missed.kernel_clone (the others' misses too)" $((v + m)) $n $((n + others))
	dv A B ok; local ok=$REPLY
	dv A B direct; ok=$((ok + REPLY))
	dv A B ignored.filter; ok=$((ok + REPLY))
	dv A B ignored.disabled; ok=$((ok + REPLY))
	is "ok + direct + ignored + missed.kernel_clone = tasks made" $((ok + m)) "$made"
	dv A B failed; is "failed" "$REPLY" 0
	dv A B drops.nested; is "drops.nested" "$REPLY" 0
	dv A B drops.inflight
	within "drops.inflight (of $v counted: 64 slots, the first 16 always found)" "$REPLY" $((v - 64)) $((v - 16))
	# Past the overflow, creations are counted exactly again.
	snap A
	run_wl -f 10 -v 5 -t 5 || return
	snap B
	dv A B class.fork.calls; is "then 10 forks: class.fork.calls" "$REPLY" 10
	dv A B class.vfork.calls; is "5 vforks: class.vfork.calls" "$REPLY" 5
	dv A B class.thread.calls; is "5 threads: class.thread.calls" "$REPLY" 5
	dv A B missed.kernel_clone; is "missed.kernel_clone" "$REPLY" 0
	dv A B drops.inflight; is "drops.inflight" "$REPLY" 0
}

# self_cost's "sampled" column against "hits", for every handler that
# ran: all of them with self_sample=0; with the default (6), each CPU
# times its 64th, 128th, ... call: between hits / 64 - ncpu and hits / 64.
case_self_sample() {
	local shift line name hits sampled avg n lo
	for shift in 0 6; do
		if [ $shift = 0 ]; then load self_sample=0 || return; else load || return; fi
		param self_sample; is "parameters/self_sample" "$REPLY" $shift
		run_wl -f 20 -v 10 -t 10 -C 16 || return
		snap A
		n=0
		while read -r name hits sampled avg; do
			case $name in "" | "#") continue ;; esac
			[[ "$hits $sampled $avg" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] ||
				{ fail "self_cost line: $name $hits $sampled $avg"; continue; }
			n=$((n + 1))
			lo=$((hits / (1 << shift) - ncpu))
			if [ "$sampled" -gt $((hits >> shift)) ] || [ "$sampled" -lt $lo ]; then
				fail "self_sample=$shift: $name: $sampled of $hits calls timed"
			fi
			[ $shift = 0 ] && [ "$avg" = 0 ] && fail "self_sample=0: $name: avg_ns 0"
		done <<<"${A_sec[self_cost]}"
		at_least "handlers in self_cost (self_sample=$shift)" "$n" 6
		say "self_sample=$shift: $n handlers, each with its hits / $((1 << shift)) timed (per CPU, rounded down)"
		cv A self.kernel_clone.entry.hits
		at_least "self.kernel_clone.entry.hits (40 creations)" "$REPLY" 40
		unload || return
	done
}

# ---------------------------------------------------------------------
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=("${all_cases[@]}")
for c in "${cases[@]}"; do
	declare -F "case_$c" > /dev/null || { echo "unknown case $c ($usage; cases: ${all_cases[*]})"; exit 2; }
done
passed=0 failed=0 skipped=0
for c in "${cases[@]}"; do
	echo "== $c: ${desc[$c]}"
	case_rc=0 case_skipped=0
	t0=$SECONDS
	"case_$c"
	cleanup_case
	loaded && fail "clonestat still loaded after the case"
	if [ $case_rc -ne 0 ]; then
		failed=$((failed + 1))
		echo "$c: FAILED ($((SECONDS - t0)) s)"
	elif [ $case_skipped = 2 ]; then
		skipped=$((skipped + 1))
		echo "$c: skipped"
	else
		passed=$((passed + 1))
		part=
		[ $case_skipped = 1 ] && part=" in part (see SKIP)"
		echo "$c: passed$part ($((SECONDS - t0)) s)"
	fi
done
echo "params_test: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] || exit 1
[ $passed -gt 0 ] || exit 4
exit 0
