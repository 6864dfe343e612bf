#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the VM, with clonestat loaded (clonestat.sh runs it): step timing,
# one case a run.
#
#   off     loaded without it, no step function has a kretprobe; "steps on"
#           puts one on each step function the probes section names,
#           "steps off" takes them all off; loaded with steps=1, they are
#           on from the load, and gone after the unload (MODULE.ko given)
#   exact   clone_workload -f 20 -v 10 -t 10 under "filter comm
#           clone_workload": each step's calls exact per class (the steps
#           a class skips: 0), each histogram holding one value a
#           creation that ran the step, the steps adding up to the copy
#           and mm phases to the nanosecond, the section as the counters;
#           a reset leaves no step counter and no steps section
#   ftrace  the same workload with the kernel's function_graph tracer on
#           kernel_clone(), copy_process() and the step functions, for
#           the workload's process alone: each step's calls equal the
#           calls function_graph records, and each step's share of the
#           copy and mm phases agrees with function_graph's share of
#           copy_process() within 25 % of it (steps of 5 % or more), or
#           1.25 points (smaller ones, where the probes' own cost
#           weighs most)
#
# usage: steps_test.sh DIR_WITH_CLONE_WORKLOAD MODULE.ko CASE

set -u
progs=$1 ko=$2 case=$3
P=/proc/clonestat
tools=$(dirname "$(readlink -f "$0")")/../tools
T=/sys/kernel/tracing
kprobes=/sys/kernel/debug/kprobes/list
nf=20 nv=10 nt=10
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -e $P ] && { echo "filter clear" > $P; echo "steps off" > $P; }' EXIT

# The counters of a saved read, as "name value" lines.
counters() { sed -n '/^section counters$/,/^section /{/^section /d;p}' "$1"; }
ctr() { awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$1.counters"; }
save() { cat $P > "$1" && counters "$1" > "$1.counters"; }
# The functions step timing probes, as "function step" lines.
step_fns() { awk '/^section probes$/ { p = 1; next } /^section / { p = 0 }
	p && $1 != "#" && $2 ~ /^step\./ { print $1, substr($2, 6) }' $P; }
listed() { grep -E "^[0-9a-f]+ +r +$1\+0x[0-9a-f]+ " "$kprobes"; }
# Step functions with a kretprobe now.
probed_now() {
	local f n=0
	for f in "$@"; do listed "$f" > /dev/null && n=$((n + 1)); done
	echo $n
}

t_off() {
	local fns n
	echo "steps on" > $P || return 1
	fns=$(step_fns | awk '{ print $1 }')
	[ -n "$fns" ] || { echo "steps on: no step function in the probes section"; return 1; }
	n=$(echo "$fns" | wc -l)
	[ "$(probed_now $fns)" = "$n" ] ||
		{ echo "steps on: $(probed_now $fns) of $n step functions have a kretprobe"; return 1; }
	echo "steps off" > $P || return 1
	[ "$(probed_now $fns)" = 0 ] || { echo "steps off: kretprobes left"; cat "$kprobes"; return 1; }
	[ -z "$(step_fns)" ] || { echo "steps off: the probes section still names steps"; return 1; }
	grep -qx 'steps 0' $P || { echo "steps off: the control section does not say steps 0"; return 1; }
	rmmod clonestat || return 1
	insmod "$ko" || return 1
	[ "$(probed_now $fns)" = 0 ] || { echo "loaded without steps=1: kretprobes on steps"; return 1; }
	rmmod clonestat || return 1
	insmod "$ko" steps=1 || return 1
	[ "$(probed_now $fns)" = "$n" ] ||
		{ echo "steps=1: $(probed_now $fns) of $n step functions have a kretprobe"; return 1; }
	grep -qx 'steps 1' $P || { echo "steps=1: the control section does not say steps 1"; return 1; }
	rmmod clonestat || return 1
	[ "$(probed_now $fns)" = 0 ] || { echo "after unload: kretprobes left"; cat "$kprobes"; return 1; }
	insmod "$ko" || return 1
	echo "$n step functions: $(echo $fns)"
}

t_exact() {
	echo "filter comm clone_workload" > $P && echo "steps on" > $P && echo reset > $P || return 1
	"$progs/clone_workload" -f $nf -v $nv -t $nt > /dev/null || return 1
	save "$tmp/a" || return 1
	step_fns > "$tmp/fns"
	# The tools: clonestat show --json and the exporter, from the same state.
	"$tools/clonestat" show --json > "$tmp/json" &&
		mkdir "$tmp/prom" && "$tools/clonestat-exporter" --dir "$tmp/prom" || return 1
	# One process checks it all: a fork costs 15 ms on the debug kernel.
	python3 - "$tmp/a" "$tmp/fns" "$tmp/json" "$tmp/prom/clonestat.prom" $nf $nv $nt <<'PY' || return 1
import json, re, sys
text = open(sys.argv[1]).read()
sections = {}
for chunk in text.split("\n\nsection ")[1:]:
    name, _, body = chunk.partition("\n")
    sections[name] = [l for l in body.split("\n") if l and not l.startswith("#")]
c = {}
for l in sections["counters"]:
    k, _, v = l.partition(" ")
    c[k] = int(v) if v.lstrip("-").isdigit() else v
probed = {l.split()[1] for l in open(sys.argv[2]) if l.strip()}
steps_json = json.load(open(sys.argv[3]))["steps"]
prom = open(sys.argv[4]).read()
n = dict(zip(("fork", "vfork", "thread"), map(int, sys.argv[5:8])))
bad = []

def want_calls(cls, step):
    """Calls a creation: 1, or 0 for what the class shares or lacks."""
    if step in ("task", "uncovered", "mm_vmas") or step in probed:
        if (cls, step) in (("thread", "files"), ("thread", "fs"), ("thread", "mm_vmas"),
                           ("vfork", "mm_vmas")):
            return 0
        return 1
    return 0

for cls, k in n.items():
    for name in ("class.%s.calls" % cls, "step.%s.creations" % cls):
        if c.get(name, 0) != k:
            bad.append("%s %s, want %d" % (name, c.get(name, 0), k))
    prefix = "step.%s." % cls
    names = [x[len(prefix):-len(".calls")] for x in c
             if x.startswith(prefix) and x.endswith(".calls") and "." not in x[len(prefix):-6]]
    total, rows = 0, 0
    section = {l.split()[0]: l.split() for l in sections.get("steps " + cls, [])}
    for step in names:
        calls = c["%s%s.calls" % (prefix, step)]
        if step == "mm_page_tables":
            ok = calls >= k if cls == "fork" else calls == 0
            if not ok:
                bad.append("%s %s: %d calls, want %s" % (cls, step, calls,
                           "%d or more" % k if cls == "fork" else "0"))
        elif calls != want_calls(cls, step) * k:
            bad.append("%s %s: %d calls, want %d" % (cls, step, calls, want_calls(cls, step) * k))
        ns = c["%s%s.sum_ns" % (prefix, step)]
        total += ns
        hist = sum(v for x, v in c.items() if x.startswith("hist.step.%s.%s." % (cls, step)))
        if hist != (k if calls else 0):
            bad.append("hist.step.%s.%s: %d values, want %d" % (cls, step, hist, k if calls else 0))
        if calls:
            rows += 1
            r = section.get(step)
            if not r or [int(r[1]), int(r[2]), int(r[4])] != [calls, ns, c["%s%s.max_ns" % (prefix, step)]]:
                bad.append("section steps %s: row %s, the counters %d %d" % (cls, r, calls, ns))
        # The tools say what the counters say.
        got = steps_json.get(cls, {}).get("steps", {}).get(step)
        if calls and (not got or got["calls"] != calls or got["sum_ns"] != ns):
            bad.append("%s %s: show --json %s, the counters %d %d" % (cls, step, got, calls, ns))
        m = re.search(r'^clonestat_step_calls_total\{class="%s",step="%s"\} (\S+)$'
                      % (cls, step), prom, re.M)
        if calls and (not m or int(float(m.group(1))) != calls):
            bad.append("%s %s: exporter %s, the counters %d" % (cls, step, m and m.group(1), calls))
        m = re.search(r'^clonestat_step_seconds_count\{class="%s",step="%s"\} (\S+)$'
                      % (cls, step), prom, re.M)
        if calls and (not m or int(float(m.group(1))) != k):
            bad.append("%s %s: exporter histogram count %s" % (cls, step, m and m.group(1)))
    phases = c.get("step.%s.copy_mm_ns" % cls, 0)
    if total != phases:
        bad.append("%s: steps add up to %d ns, the copy and mm phases to %d" % (cls, total, phases))
    want = c.get("class.%s.copy_ns" % cls, 0) + c.get("class.%s.mm_ns" % cls, 0)
    if phases != want:
        bad.append("%s: copy_mm_ns %d, class copy_ns + mm_ns %d" % (cls, phases, want))
    if len(section) != rows + 1 or section.get("copy_mm", [0, 0, 0])[1:3] != [str(k), str(phases)]:
        bad.append("section steps %s: not %d step rows and the total" % (cls, rows))
    if sum(r["sum_ns"] for r in steps_json.get(cls, {}).get("steps", {}).values()) != phases:
        bad.append("%s: show --json steps do not add up to copy_mm_ns" % cls)
    print("%s: %d creations, %d steps adding up to %d ns" % (cls, k, rows, total))
for name in ("steps.partial", "missed.steps", "drops.inflight"):
    if c.get(name, 0):
        bad.append("%s %s" % (name, c[name]))
if "clonestat_steps_enabled 1" not in prom.split("\n"):
    bad.append("exporter: no clonestat_steps_enabled 1")
print("\n".join(bad) or "show --json and the exporter: every step as the counters")
sys.exit(1 if bad else 0)
PY
	echo reset > $P || return 1
	save "$tmp/b" || return 1
	if grep -qE '^(hist\.)?step\.' "$tmp/b.counters" || grep -q '^section steps' "$tmp/b"; then
		echo "after a reset, step counters or sections are left:"
		grep -E '^(hist\.)?step\.|^section steps' "$tmp/b" | head
		return 1
	fi
}

# function_graph's trace, as "function calls sum_ns" lines, and "task"
# (kernel_clone() to copy_creds()) and "copy_process".
fg_parse() {
	awk -F'|' 'NF >= 3 {
		ts = $1 + 0; d = $2; sub(/^[^)]*\)/, "", d); gsub(/[^0-9.]/, "", d)
		call = $3
		if (match(call, /[A-Za-z0-9_.]+\(\) \{/)) {
			name = substr(call, RSTART, RLENGTH - 4)
			if (name == "kernel_clone")
				start = ts
		} else if (match(call, /[A-Za-z0-9_.]+\(\);/)) {
			name = substr(call, RSTART, RLENGTH - 3)
			calls[name]++; ns[name] += d * 1000
			if (name == "copy_creds" && start) {
				calls["task"]++; ns["task"] += (ts - start) * 1e9; start = 0
			}
		} else if (match(call, /\} \/\* [A-Za-z0-9_.]+ \*\//)) {
			name = substr(call, RSTART + 5, RLENGTH - 8)
			calls[name]++; ns[name] += d * 1000
		}
	}
	END { for (f in calls) printf "%s %d %.0f\n", f, calls[f], ns[f] }' "$@"
}

# function_graph on kernel_clone(), copy_process() and the functions FNS,
# for the process of the next workload(): fg_on FNS; fg_off saves it.
fg_on() {
	echo 0 > $T/tracing_on
	echo nop > $T/current_tracer
	echo > $T/trace
	echo "$*" | tr ' ' '\n' > $T/set_ftrace_filter || { echo "set_ftrace_filter: $*"; return 1; }
	echo kernel_clone > $T/set_graph_function || return 1
	echo 16384 > $T/buffer_size_kb
	for o in funcgraph-abstime funcgraph-tail funcgraph-duration; do echo 1 > $T/options/$o; done
	echo function_graph > $T/current_tracer
}

fg_off() {
	echo 0 > $T/tracing_on
	cat $T/trace > "$1"
	echo nop > $T/current_tracer
	echo > $T/set_ftrace_filter
	echo > $T/set_graph_function
	echo > $T/set_ftrace_pid
	echo 1 > $T/tracing_on
	! grep -q 'overrun: [1-9]' $T/per_cpu/cpu*/stats || { echo "the trace lost events"; return 1; }
}

# The workload, under "filter tgid" of its process and, with TRACE set,
# traced by function_graph alone; clonestat's counters after it in $1.
workload() {
	local line pid
	coproc W { "$progs/clone_workload" -P -f $nf -v $nv -t $nt; }
	read -r line <&"${W[0]}"
	pid=${line#ready }
	[[ $pid =~ ^[0-9]+$ ]] || { echo "clone_workload said '$line'"; return 1; }
	echo "filter clear" > $P && echo "filter tgid $pid" > $P && echo reset > $P || return 1
	if [ -n "${TRACE:-}" ]; then
		echo "$pid" > $T/set_ftrace_pid && echo 1 > $T/tracing_on || return 1
	fi
	echo >&"${W[1]}"
	wait "$W_PID" || { echo "clone_workload failed"; return 1; }
	save "$1"
}

# Step STEP of function FN (a "function step" line of step_fns, task, or
# dup_mmap for mm_vmas) in clonestat's counters $1 and function_graph's
# $2: "calls sum_ns" of each, over the classes.
step_cs() {
	local calls=0 sum=0 c
	for c in fork vfork thread; do
		calls=$((calls + $(ctr "$1" "step.$c.$2.calls")))
		sum=$((sum + $(ctr "$1" "step.$c.$2.sum_ns")))
	done
	echo $calls $sum
}
step_fg() {
	awk -v f="$2" '$1 == f { k = $2; t = $3 } $1 == "copy_page_range" { p = $3 }
		END { if (f == "dup_mmap") t -= p; print k + 0, t + 0 }' "$1"
}

t_ftrace() {
	local fns f step fail=0 total fg_total k t fk ft
	[ -e $T/available_tracers ] && grep -qw function_graph $T/available_tracers ||
		{ echo "no function_graph tracer"; return 1; }
	echo "steps on" > $P || return 1
	step_fns > "$tmp/fns"
	grep -qw dup_mmap $T/available_filter_functions && echo "dup_mmap mm_vmas" >> "$tmp/fns"
	fns="kernel_clone copy_process $(awk '{ print $1 }' "$tmp/fns")"
	# Calls: both at once, on the same creations.
	fg_on $fns || return 1
	TRACE=1 workload "$tmp/both" || return 1
	fg_off "$tmp/both.trace" || fail=1
	fg_parse "$tmp/both.trace" > "$tmp/both.fg"
	# Shares: each alone, so that neither times the other's probes.
	workload "$tmp/cs" || return 1
	echo "steps off" > $P || return 1
	fg_on $fns || return 1
	TRACE=1 workload "$tmp/fgonly" || return 1
	fg_off "$tmp/fg.trace" || fail=1
	fg_parse "$tmp/fg.trace" > "$tmp/fg"
	for f in both.fg fg; do
		[ "$(step_fg "$tmp/$f" copy_process)" != "$((nf + nv + nt)) 0" ] &&
		[ "$(step_fg "$tmp/$f" copy_process | cut -d' ' -f1)" = $((nf + nv + nt)) ] ||
			{ echo "$f: function_graph saw $(step_fg "$tmp/$f" copy_process) copy_process() calls and ns"; fail=1; }
	done
	total=0
	for c in fork vfork thread; do
		total=$((total + $(ctr "$tmp/cs" "step.$c.copy_mm_ns")))
	done
	fg_total=$(step_fg "$tmp/fg" copy_process | cut -d' ' -f2)
	printf '# %-16s %-22s %14s %14s\n' step function "calls: steps" "function_graph"
	printf '# %-16s %-22s %14s %14s\n' "" "" "share: steps" "function_graph"
	{ echo "task task"; cat "$tmp/fns"; } | while read -r f step; do
		# Calls from the run with both on; shares from the runs alone.
		read -r k t < <(step_cs "$tmp/both" "$step")
		read -r fk ft < <(step_fg "$tmp/both.fg" "$f")
		read -r t < <(step_cs "$tmp/cs" "$step" | cut -d' ' -f2)
		read -r ft < <(step_fg "$tmp/fg" "$f" | cut -d' ' -f2)
		awk -v s="$step" -v f="$f" -v k="$k" -v fk="$fk" -v t="$t" -v ft="$ft" \
			-v T="$total" -v FT="$fg_total" 'BEGIN {
			a = 100 * t / T; b = 100 * ft / FT; d = a - b; if (d < 0) d = -d
			ok = k == fk && (b >= 5 ? d <= 0.25 * b : d <= 1.25)
			printf "%-4s %-16s %-22s %6d %6d  %5.1f %% %5.1f %%\n",
				ok ? "ok" : "BAD", s, f, k, fk, a, b
			exit !ok }' || echo fail
	done > "$tmp/cmp"
	grep -v '^fail$' "$tmp/cmp"
	echo "copy and mm phases: clonestat $total ns; copy_process(): function_graph $fg_total ns"
	grep -q '^fail$' "$tmp/cmp" && fail=1
	return $fail
}

case $case in
off) t_off ;;
exact) t_exact ;;
ftrace) t_ftrace ;;
*) echo "steps_test.sh: no case $case"; exit 2 ;;
esac
