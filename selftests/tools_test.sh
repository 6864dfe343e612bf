#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the VM, as root, with clonestat loaded from MODULE.ko (clonestat.sh
# runs it): tools/clonestat outside "record" (which clonestat.sh tests),
# under "filter comm clone_workload", with workloads of known size:
#   W  = clone_workload -f 12 -v 5 -t 7 -c 16: 13 forks (12, and one
#        before its COW writes), 5 vforks, 7 threads, one child writing 16
#        pages;
#   W0 = clone_workload -f 3 -v 2 -t 4.
#
# 1. show and show --json after a reset and W: exactly W's creations per
#    class (none of another class, none failed), the flags (CLONE_VFORK 5,
#    CLONE_THREAD 7, CLONE_VM 12), as many latency and first-run
#    histogram entries a class as creations, 13 COW bills with 16 pages
#    or more, nothing lost, W's own row in the task table with its
#    numbers, and only clone_workload rows.  Then, unfiltered, processes
#    renamed "" and "-": their rows in show --json have those names and
#    their forks, and "filter comm -" shows as \055.
# 2. snapshot A after W0, snapshot B after W (B replacing a file: a new
#    inode, no FILE.tmp left): diff A B, text and --json, is exactly W,
#    without W0's row; show is both (16, 7, 11).
# 3. top -i 0.2 -n 3: three frames, no terminal escapes, at least 0.6 s;
#    top -i 0.5 over W: its frames, added up, are exactly W's row, busiest
#    first in every frame.
# 4. One line on stderr, nothing on stdout and exit 1 (README, "Tools"):
#    a file of format version 2 (diff; show, snapshot, top and the exporter
#    with such a file bind-mounted on /proc/clonestat), a file that is no
#    clonestat file, a missing one, a directory, snapshot into a missing
#    directory; as nobody (mode 0600): show, show --json, snapshot, top,
#    record, the exporter; without the module (rmmod): show, show --json,
#    snapshot, top, record, the exporter, and a running top when the
#    module goes.  diff of the saves still works without the module.
#    --help works on every subcommand.
# The module is loaded again at the end.
#
# usage: tools_test.sh DIR_WITH_CLONE_WORKLOAD MODULE.ko

set -u
progs=$1
ko=$2
top=$(dirname "$(dirname "$(readlink -f "$0")")")
tool=$top/tools/clonestat
exporter=$top/tools/clonestat-exporter
tmp=$(mktemp -d)
# Copies of the tools where nobody can run them.
pub=$(mktemp -d)
rc=0
for p in python3 setpriv unshare; do
	command -v $p > /dev/null || { echo "no $p"; exit 1; }
done
[ -f "$ko" ] || { echo "no module at $ko"; exit 1; }
[ -r /proc/clonestat ] || { echo "clonestat is not loaded"; exit 1; }
# record checks for cgroup v2 first: its errors below are about the module.
[ -e /sys/fs/cgroup/cgroup.procs ] || mount -t cgroup2 none /sys/fs/cgroup ||
	{ echo "no cgroup2"; exit 1; }
# shellcheck disable=SC2317 # the EXIT trap runs it
cleanup() {
	[ -d /sys/module/clonestat ] || insmod "$ko" || echo "insmod $ko failed"
	echo "filter clear" > /proc/clonestat
	echo enable > /proc/clonestat
	rm -rf "$tmp" "$pub"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; rc=1; }

# workload ARGS...: clone_workload ARGS in the background and waited for;
# sets wpid to its pid.
workload() {
	"$progs/clone_workload" "$@" > /dev/null &
	wpid=$!
	wait $wpid || fail "clone_workload $* failed"
}

cat > "$tmp/check.py" <<'PY'
"""check.py json|text|top FILE [--classes fork=N,...] [--row PID:fork=N,...]
[--absent PID] [--cow-min N]: what tools/clonestat printed, against the
workloads' numbers.  check.py frames FILE N: top printed N frames."""
import argparse
import json
import re
import sys

CLASSES = ["fork", "vfork", "thread", "shared_vm", "namespace", "kthread",
           "worker", "other"]


def counts(s):
    d = {k: 0 for k in CLASSES}
    for kv in s.split(","):
        k, _, v = kv.partition("=")
        d[k] = int(v)
    return d


def row_arg(s):
    pid, _, rest = s.partition(":")
    return int(pid), counts(rest)


p = argparse.ArgumentParser()
p.add_argument("mode")
p.add_argument("file")
p.add_argument("n", nargs="?", type=int)
p.add_argument("--classes", type=counts)
p.add_argument("--row", type=row_arg, action="append", default=[])
p.add_argument("--absent", type=int, action="append", default=[])
p.add_argument("--cow-min", type=int, default=0)
a = p.parse_args()
text = open(a.file).read()
bad = []


def expect(what, got, want):
    if got != want:
        bad.append("%s: %s, want %s" % (what, got, want))


def check_rows(rows, where):
    """rows: {tgid: {class: n}} and their comms."""
    for pid, want in a.row:
        if pid not in rows:
            bad.append("%s: no row for tgid %d" % (where, pid))
            continue
        for k in CLASSES:
            expect("%s, tgid %d, %s" % (where, pid, k), rows[pid][k], want[k])
    for pid in a.absent:
        if pid in rows:
            bad.append("%s: a row for tgid %d, which did nothing meanwhile" % (where, pid))


def check_json(s):
    cl = a.classes
    expect("version", s["version"], 1)
    for k in CLASSES:
        expect("classes.%s.calls" % k, s["classes"][k]["calls"], cl[k])
        expect("classes.%s.failed" % k, s["classes"][k]["failed"], 0)
        hist = sum(s["latency_ns"].get(k, {}).values())
        expect("latency_ns.%s entries" % k, hist, cl[k])
        first = (sum(s["first_run_ns"].get(k, {}).values()) +
                 sum(s["first_run_other_cpu_ns"].get(k, {}).values()))
        expect("first runs, %s" % k, first, cl[k])
    expect("calls", s["calls"], sum(cl.values()))
    expect("failed", s["failed"], 0)
    expect("errors", s["errors"], {})
    expect("lost", s["lost"], {})
    for f, n in (("CLONE_VFORK", cl["vfork"]), ("CLONE_THREAD", cl["thread"]),
                 ("CLONE_VM", cl["vfork"] + cl["thread"])):
        expect("flags.%s" % f, s["flags"].get(f, 0), n)
    expect("cow_bills classes", sorted(s["cow_bills"]), ["fork"] if cl["fork"] else [])
    if cl["fork"]:
        expect("cow_bills.fork.forks", s["cow_bills"]["fork"]["forks"], cl["fork"])
        expect("cow_pages_per_fork.fork entries",
               sum(s["cow_pages_per_fork"].get("fork", {}).values()), cl["fork"])
        if s["cow_bills"]["fork"]["child_copies"] < a.cow_min:
            bad.append("cow_bills.fork.child_copies %d, want %d or more" %
                       (s["cow_bills"]["fork"]["child_copies"], a.cow_min))
    if s["cow"]["copies"] < a.cow_min:
        bad.append("cow.copies %d, want %d or more" % (s["cow"]["copies"], a.cow_min))
    for r in s["tasks"]:
        expect("tasks: tgid %d's comm" % r["tgid"], r["comm"], "clone_workload")
    check_rows({r["tgid"]: r for r in s["tasks"]}, "tasks")


def check_text(t):
    lines = t.splitlines()
    cl = a.classes
    # The class table: "class calls failed ..." and a row a class with calls.
    i = next((i for i, l in enumerate(lines) if l.split()[:3] == ["class", "calls", "failed"]), None)
    if i is None:
        bad.append("no class table")
        return
    got = {}
    for l in lines[i + 1:]:
        if not l.strip():
            break
        w = l.split()
        got[w[0]] = (int(w[1]), int(w[2]))
    expect("class table", got, {k: (n, 0) for k, n in cl.items() if n})
    flags = dict((f.rsplit(" ", 1)[0], int(f.rsplit(" ", 1)[1]))
                 for l in lines if l.startswith("flags: ") for f in l[7:].split(", "))
    for f, n in (("CLONE_VFORK", cl["vfork"]), ("CLONE_THREAD", cl["thread"]),
                 ("CLONE_VM", cl["vfork"] + cl["thread"])):
        expect("flags: %s" % f, flags.get(f, 0), n)
    expect("errors: line", [l for l in lines if l.startswith("errors: ")], [])
    expect("not recorded: line", [l for l in lines if l.startswith("not recorded: ")], [])
    # Histograms: a title line, a header, then "LO .. HI COUNT |bars|".
    hists, title = {}, None
    for l in lines:
        m = re.match(r"^\s+\d+ \.\. \d+\s+(\d+)  \|", l)
        if m and title:
            hists[title] = hists.get(title, 0) + int(m.group(1))
        elif l and not l.startswith(" "):
            title = l
    for k in CLASSES:
        expect("'latency, %s' entries" % k, hists.get("latency, " + k, 0), cl[k])
        expect("'wakeup to first run, %s' entries" % k,
               hists.get("wakeup to first run, %s, same CPU" % k, 0) +
               hists.get("wakeup to first run, %s, other CPU" % k, 0), cl[k])
    bills = [l for l in lines if l.startswith("COW bills, ")]
    if cl["fork"]:
        m = re.match(r"COW bills, fork: (\d+) forks, (\d+) pages copied by the children",
                     bills[0] if bills else "")
        if not m or len(bills) != 1:
            bad.append("COW bills lines: %s" % bills)
        else:
            expect("COW bills, fork: forks", int(m.group(1)), cl["fork"])
            if int(m.group(2)) < a.cow_min:
                bad.append("COW bills, fork: %s pages, want %d or more" % (m.group(2), a.cow_min))
            expect("'pages copied per fork, fork' entries",
                   hists.get("pages copied per fork, fork", 0), cl["fork"])
    # The task table: "tgid comm fork vfork ... cow_copies cow_reuses".
    rows = {}
    i = next((i for i, l in enumerate(lines) if l.split()[:2] == ["tgid", "comm"]), None)
    if i is None:
        bad.append("no task table")
        return
    expect("task table columns", lines[i].split()[2:], CLASSES + ["cow_copies", "cow_reuses"])
    for l in lines[i + 1:]:
        w = l.split()
        expect("task table: tgid %s's comm" % w[0], w[1], "clone_workload")
        rows[int(w[0])] = dict(zip(CLASSES, map(int, w[2:10])))
    check_rows(rows, "task table")


def frames(t):
    """top's frames: lists of rows {tgid, comm, total, classes...}."""
    out = []
    for l in t.splitlines():
        if l.startswith("clonestat top: every "):
            out.append([])
        elif l.split()[:3] == ["tgid", "comm", "total"]:
            expect("top columns", l.split()[3:], CLASSES + ["cow_copies", "cow_reuses"])
        elif out and l.strip():
            w = l.split()
            r = dict(zip(CLASSES, map(int, w[3:11])))
            r.update(tgid=int(w[0]), comm=w[1], total=int(w[2]))
            out[-1].append(r)
        elif l.strip():
            bad.append("top printed %r before its first frame" % l)
    return out


if a.mode == "json":
    try:
        s = json.loads(text)
    except ValueError as e:
        sys.exit("not JSON: %s" % e)
    check_json(s)
elif a.mode == "text":
    check_text(text)
elif a.mode == "frames":
    expect("frames", len(frames(text)), a.n)
    if "\033" in text:
        bad.append("terminal escapes in the output of top to a file")
elif a.mode == "top":
    f = frames(text)
    sums = {}
    for i, fr in enumerate(f):
        totals = [r["total"] for r in fr]
        if totals != sorted(totals, reverse=True):
            bad.append("frame %d not busiest first: %s" % (i + 1, totals))
        for r in fr:
            expect("frame %d, tgid %d: total" % (i + 1, r["tgid"]), r["total"],
                   sum(r[k] for k in CLASSES))
            expect("frame %d, tgid %d: comm" % (i + 1, r["tgid"]), r["comm"], "clone_workload")
            s = sums.setdefault(r["tgid"], {k: 0 for k in CLASSES})
            for k in CLASSES:
                s[k] += r[k]
    check_rows(sums, "top's frames added up")
    print("top: %d frames" % len(f))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
check() { python3 "$tmp/check.py" "$@" || fail "$1 ${2##*/}: see above"; }

# errors_are WHAT REGEX CMD...: CMD exits 1, prints nothing on stdout and
# exactly one line on stderr, which matches REGEX.
errors_are() {
	local what=$1 re=$2 st n
	shift 2
	"$@" > "$tmp/out" 2> "$tmp/err"
	st=$?
	n=$(awk 'END { print NR }' "$tmp/err")
	if [ $st = 1 ] && [ ! -s "$tmp/out" ] && [ "$n" = 1 ] && grep -qE -- "$re" "$tmp/err"; then
		echo "$what: $(cat "$tmp/err")"
	else
		fail "$what: exit $st, $(wc -c < "$tmp/out") bytes on stdout, $n lines on stderr (want exit 1, nothing, one line matching '$re'):"
		head -c 2000 "$tmp/out" "$tmp/err" | sed 's/^/  | /'
	fi
}
# A clonestat line naming /proc/clonestat, for each way it can fail.
v2='^clonestat(-exporter)?: /proc/clonestat has format version 2; this tool knows version 1$'
perm='^clonestat(-exporter)?: cannot read /proc/clonestat: permission denied'
gone='^clonestat(-exporter)?: /proc/clonestat does not exist: is the module loaded\?'

echo "filter comm clone_workload" > /proc/clonestat || exit 1

# 1. show, text and JSON.
echo reset > /proc/clonestat
workload -f 12 -v 5 -t 7 -c 16
w=$wpid
echo disable > /proc/clonestat
W="fork=13,vfork=5,thread=7"
"$tool" show --json > "$tmp/show.json" || fail "show --json failed"
check json "$tmp/show.json" --classes "$W" --row "$w:$W" --cow-min 16
"$tool" show > "$tmp/show.txt" || fail "show failed"
check text "$tmp/show.txt" --classes "$W" --row "$w:$W" --cow-min 16
echo "show, show --json: W's numbers, W's row (tgid $w)"
echo enable > /proc/clonestat

# 1b. Names that are not plain words: a process renamed to "" forks 2, one
#     renamed to "-" forks 3 (the module shows them as "-" and "\055");
#     show --json gives each row its name back, with its forks, and the
#     control section shows "filter comm -" as \055.
# named NAME N: a process that renames itself NAME, prints its pid, forks N.
# It runs on one CPU from birth: its COW faults before the rename make it
# a row named python3, and on another CPU that row's name could be the
# one a read shows (merged rows keep one CPU's name: README, Known
# problems).
named() {
	python3 - "$1" "$2" <<'PY'
import ctypes, os, sys
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
child = os.fork()
if child:
    _, status = os.waitpid(child, 0)
    sys.exit(status != 0)
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)  # PR_SET_NAME
print(os.getpid(), flush=True)
for _ in range(int(sys.argv[2])):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
os._exit(0)
PY
}
echo "filter clear" > /proc/clonestat
echo reset > /proc/clonestat
e=$(named "" 2) || fail "a process renamed \"\" failed"
d=$(named - 3) || fail "a process renamed - failed"
echo "filter comm -" > /proc/clonestat || fail "filter comm - was refused"
grep -qxF 'filter.comm \055' /proc/clonestat ||
	fail "filter comm -: control says '$(grep '^filter.comm ' /proc/clonestat)', want \\055"
"$tool" show --json > "$tmp/names.json" || fail "show --json failed"
python3 - "$tmp/names.json" "$e" "$d" <<'PY' || fail "rows of renamed processes: see above"
import json
import sys
rows = {r["tgid"]: r for r in json.load(open(sys.argv[1]))["tasks"]}
bad = 0
for pid, name, forks in ((int(sys.argv[2]), "", 2), (int(sys.argv[3]), "-", 3)):
    r = rows.get(pid, {})
    if r.get("comm") != name or r.get("fork") != forks:
        print("tgid %d named %r: row %r, want that name and %d forks" % (pid, name, r, forks))
        bad = 1
sys.exit(bad)
PY
"$tool" show > /dev/null || fail "show failed with renamed processes"
echo "names: \"\" (tgid $e) and \"-\" (tgid $d) read back from show --json, with 2 and 3 forks"
echo "filter clear" > /proc/clonestat
echo "filter comm clone_workload" > /proc/clonestat || exit 1

# 2. snapshot, diff.
echo reset > /proc/clonestat
workload -f 3 -v 2 -t 4
w0=$wpid
"$tool" snapshot "$tmp/a" || fail "snapshot failed"
workload -f 12 -v 5 -t 7 -c 16
wb=$wpid
echo "not a snapshot" > "$tmp/b"
ino=$(stat -c %i "$tmp/b")
"$tool" snapshot "$tmp/b" || fail "snapshot failed"
[ "$(stat -c %i "$tmp/b")" != "$ino" ] || fail "snapshot wrote over the file in place (same inode)"
[ ! -e "$tmp/b.tmp" ] || fail "snapshot left b.tmp"
for f in a b; do
	[ "$(head -n1 "$tmp/$f")" = "clonestat version 1" ] || fail "snapshot $f: first line $(head -n1 "$tmp/$f")"
	grep -qx "section counters" "$tmp/$f" || fail "snapshot $f: no counters section"
done
"$tool" diff "$tmp/a" "$tmp/b" --json > "$tmp/diff.json" || fail "diff --json failed"
check json "$tmp/diff.json" --classes "$W" --row "$wb:$W" --absent "$w0" --cow-min 16
"$tool" diff "$tmp/a" "$tmp/b" > "$tmp/diff.txt" || fail "diff failed"
check text "$tmp/diff.txt" --classes "$W" --row "$wb:$W" --absent "$w0" --cow-min 16
"$tool" show --json > "$tmp/show2.json" || fail "show --json failed"
check json "$tmp/show2.json" --classes "fork=16,vfork=7,thread=11" \
	--row "$w0:fork=3,vfork=2,thread=4" --row "$wb:$W" --cow-min 16
echo "snapshot, diff, diff --json: W only (tgid $wb), not W0 (tgid $w0); show: both"

# 3. top.
t0=${EPOCHREALTIME/./}
"$tool" top -i 0.2 -n 3 > "$tmp/top3" 2> "$tmp/top3.err" || fail "top -n 3: exit $?"
t=$((${EPOCHREALTIME/./} - t0))
check frames "$tmp/top3" 3
[ ! -s "$tmp/top3.err" ] || fail "top -n 3 said: $(cat "$tmp/top3.err")"
[ $t -ge 600000 ] || fail "top -i 0.2 -n 3 took $t us, under 3 intervals"
# frames_in FILE: how many frames top has printed (it flushes whole ones).
frames_in() { grep -c '^clonestat top: every ' "$1"; }
# wait_frames FILE N: until FILE has N frames (60 s at most).
wait_frames() {
	for _ in $(seq 600); do
		[ "$(frames_in "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "top printed $(frames_in "$1") frames in 60 s, not $2"
	return 1
}
echo reset > /proc/clonestat
"$tool" top -i 0.5 -n 1000 -r 100 > "$tmp/top" 2> "$tmp/top.err" &
tp=$!
# W begins after top's first read (its first frame is out) and ends
# before its last (the second frame after W's end was read after it).
if wait_frames "$tmp/top" 1; then
	workload -f 12 -v 5 -t 7 -c 16
	w=$wpid
	if wait_frames "$tmp/top" $(($(frames_in "$tmp/top") + 2)); then
		kill $tp
		wait $tp 2> /dev/null
		check top "$tmp/top" --row "$w:$W"
	fi
fi
kill $tp 2> /dev/null && wait $tp 2> /dev/null
[ ! -s "$tmp/top.err" ] || fail "top said: $(cat "$tmp/top.err")"

# 4. One-line errors.
for sub in show snapshot diff record top; do
	if ! "$tool" $sub --help > "$tmp/out" 2>&1 || ! grep -q "^usage: clonestat $sub" "$tmp/out"; then
		fail "clonestat $sub --help: $(head -n1 "$tmp/out")"
	fi
done
if ! "$exporter" --help > "$tmp/out" 2>&1 || ! grep -q "^usage: clonestat-exporter" "$tmp/out"; then
	fail "clonestat-exporter --help: $(head -n1 "$tmp/out")"
fi
mkdir "$tmp/prom"
sed '1s/^clonestat version 1$/clonestat version 2/' /proc/clonestat > "$tmp/v2"
[ "$(head -n1 "$tmp/v2")" = "clonestat version 2" ] || fail "cannot make a version 2 file"
errors_are "diff of a version 2 file" "^clonestat: $tmp/v2 has format version 2; this tool knows version 1\$" \
	"$tool" diff "$tmp/v2" "$tmp/b"
errors_are "diff of no clonestat file" "^clonestat: $tmp/top3 is not a clonestat file" \
	"$tool" diff "$tmp/a" "$tmp/top3"
errors_are "diff of a missing file" "^clonestat: $tmp/none: no such file\$" \
	"$tool" diff "$tmp/none" "$tmp/b"
errors_are "diff of a directory" "^clonestat: $tmp/prom: " "$tool" diff "$tmp/prom" "$tmp/b"
errors_are "snapshot into a missing directory" "^clonestat: .*$tmp/none/s" \
	"$tool" snapshot "$tmp/none/s"
# A version 2 /proc/clonestat: the file bind-mounted over it in a mount
# namespace of its own.
# shellcheck disable=SC2016,SC2317 # sh expands it; errors_are runs it
v2run() { unshare -m sh -c 'mount --bind "$1" /proc/clonestat && shift && exec "$@"' sh "$tmp/v2" "$@"; }
errors_are "show, /proc/clonestat of version 2" "$v2" v2run "$tool" show
errors_are "top, /proc/clonestat of version 2" "$v2" v2run "$tool" top -n 1 -i 0.1
errors_are "snapshot, /proc/clonestat of version 2" "$v2" v2run "$tool" snapshot "$tmp/s2"
if [ -e "$tmp/s2" ] || [ -e "$tmp/s2.tmp" ]; then
	fail "snapshot of a version 2 file left a file"
fi
errors_are "exporter, /proc/clonestat of version 2" "$v2" v2run "$exporter" --dir "$tmp/prom"

# As nobody, with copies of the tools where nobody can read them.
chmod 755 "$pub"
cp "$tool" "$exporter" "$pub/"
chmod 755 "$pub"/*
mkdir -m 777 "$pub/out"
# shellcheck disable=SC2317 # errors_are runs it
nobody() { (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups "$@"); }
errors_are "show as nobody" "$perm" nobody "$pub/clonestat" show
errors_are "show --json as nobody" "$perm" nobody "$pub/clonestat" show --json
errors_are "snapshot as nobody" "$perm" nobody "$pub/clonestat" snapshot "$pub/out/s"
[ -z "$(ls "$pub/out")" ] || fail "snapshot as nobody left $(ls "$pub/out")"
errors_are "top as nobody" "$perm" nobody "$pub/clonestat" top -n 1 -i 0.1
errors_are "record as nobody" "$perm" nobody "$pub/clonestat" record -- true
errors_are "exporter as nobody" "$perm" nobody "$pub/clonestat-exporter" --dir "$pub/out"

# Without the module: a running top first, then each command.
"$tool" top -i 0.2 > "$tmp/topgone" 2> "$tmp/topgone.err" &
tp=$!
wait_frames "$tmp/topgone" 1
if rmmod clonestat; then
	for _ in $(seq 300); do
		kill -0 $tp 2> /dev/null || break
		sleep 0.1
	done
	if kill $tp 2> /dev/null; then
		fail "top still running 30 s after the module went"
	else
		wait $tp
		st=$?
		n=$(awk 'END { print NR }' "$tmp/topgone.err")
		if [ $st = 1 ] && [ "$n" = 1 ] && grep -qE "$gone" "$tmp/topgone.err"; then
			echo "a running top when the module went: $(cat "$tmp/topgone.err")"
		else
			fail "a running top when the module went: exit $st, $n lines:"
			sed 's/^/  | /' "$tmp/topgone.err"
		fi
	fi
	errors_are "show without the module" "$gone" "$tool" show
	errors_are "show --json without the module" "$gone" "$tool" show --json
	errors_are "snapshot without the module" "$gone" "$tool" snapshot "$tmp/s3"
	[ ! -e "$tmp/s3" ] || fail "snapshot without the module left a file"
	errors_are "top without the module" "$gone" "$tool" top -n 1 -i 0.1
	errors_are "record without the module" "$gone" "$tool" record -- true
	errors_are "exporter without the module" "$gone" "$exporter" --dir "$tmp/prom"
	"$tool" diff "$tmp/a" "$tmp/b" --json > "$tmp/diff2.json" || fail "diff without the module failed"
	check json "$tmp/diff2.json" --classes "$W" --row "$wb:$W" --absent "$w0" --cow-min 16
	insmod "$ko" || fail "insmod $ko failed"
else
	fail "rmmod clonestat failed"
	kill $tp 2> /dev/null
fi
exit $rc
