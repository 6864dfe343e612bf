#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the VM, with clonestat loaded (clonestat.sh runs it): clonestat's
# trace events recorded with Debian's trace-cmd over workloads of known
# size, under "filter comm clone_workload", then checked event by event:
#
#   clone_workload -f 12 -v 5 -t 7 -c 16: 12 forks and the one before
#     its COW writes (13), 5 vforks, 7 threads;
#   clone_workload -f 1 as nobody under RLIMIT_NPROC 0: one fork that
#     fails with EAGAIN.
#
# So: clone events 14 fork (13 with result 0, one with result -11 and
# child 0), 5 vfork, 7 thread and none of another class; their child pids
# non-zero and distinct; one flags value a class, with the bits the class
# is told by, and per bit as many as the flag.* counters; phases adding
# up to each event's latency; first_run events exactly one per child, in
# the child (the event's pid is the clone event's child), of its class,
# none killed; cow_bill events one per forked child, closed in that child,
# whose child_copies are exactly the copy events that child took (at
# least 16 in the COW child); every sum and histogram count the same as
# /proc/clonestat's counters; and the events' format files name the
# classes as /proc/clonestat does, value for value.
#
# usage: trace_events_test.sh DIR_WITH_CLONE_WORKLOAD

set -u
progs=$1
for p in trace-cmd python3 setpriv prlimit; do
	command -v $p > /dev/null || { echo "no $p"; exit 1; }
done
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing || exit 1
[ -d /sys/kernel/tracing/events/clonestat ] || { echo "no clonestat events in tracefs"; exit 1; }
tmp=$(mktemp -d)
# The workload binary where nobody can run it too.
bin=$(mktemp -d)
trap 'rm -rf "$tmp" "$bin"; echo "filter clear" > /proc/clonestat' EXIT
chmod 755 "$bin"
install -m 755 "$progs/clone_workload" "$bin/clone_workload" || exit 1

# The traced command: both workloads; $tmp/ran says they went as planned.
cat > "$tmp/run" <<EOF
"$bin/clone_workload" -f 12 -v 5 -t 7 -c 16 || exit 1
if setpriv --reuid=65534 --regid=65534 --clear-groups \\
	prlimit --nproc=0 "$bin/clone_workload" -f 1; then
	echo "a fork under RLIMIT_NPROC 0 succeeded"
	exit 1
fi
touch "$tmp/ran"
EOF

# Only the workloads' creations: trace-cmd's and the shell's stay out.
echo "filter comm clone_workload" > /proc/clonestat || exit 1
echo reset > /proc/clonestat || exit 1
trace-cmd record -q -o "$tmp/t.dat" -e clonestat -- bash "$tmp/run" > "$tmp/run.log" 2>&1 ||
	{ echo "trace-cmd record failed:"; cat "$tmp/run.log"; exit 1; }
if [ ! -e "$tmp/ran" ] || ! grep -q "fork: Resource temporarily unavailable" "$tmp/run.log"; then
	echo "the workloads did not run as planned:"
	cat "$tmp/run.log"
	exit 1
fi
trace-cmd report -i "$tmp/t.dat" > "$tmp/t.txt" 2> "$tmp/report.err" ||
	{ echo "trace-cmd report failed:"; cat "$tmp/report.err"; exit 1; }
cat /proc/clonestat > "$tmp/proc" || exit 1

python3 - "$tmp/t.txt" "$tmp/proc" <<'PY'
import re
import sys

report, proc = sys.argv[1], sys.argv[2]
CLASSES = ["fork", "vfork", "thread", "shared_vm", "namespace", "kthread",
           "worker", "other"]
# What the workloads make: clone_workload -f 12 -v 5 -t 7 -c 16, and one
# fork failing with EAGAIN.
OK = {"fork": 13, "vfork": 5, "thread": 7}
FAILED = {"fork": 1}
EAGAIN = 11
COW_PAGES = 16

# module/proc.c's names of the clone flags, by bit.
NAMES = {7: "NEWTIME", 8: "VM", 9: "FS", 10: "FILES", 11: "SIGHAND", 12: "PIDFD",
         13: "PTRACE", 14: "VFORK", 15: "PARENT", 16: "THREAD", 17: "NEWNS",
         18: "SYSVSEM", 19: "SETTLS", 20: "PARENT_SETTID", 21: "CHILD_CLEARTID",
         22: "DETACHED", 23: "UNTRACED", 24: "CHILD_SETTID", 25: "NEWCGROUP",
         26: "NEWUTS", 27: "NEWIPC", 28: "NEWUSER", 29: "NEWPID", 30: "NEWNET",
         31: "IO", 32: "CLEAR_SIGHAND", 33: "INTO_CGROUP", 34: "AUTOREAP",
         35: "NNP", 36: "PIDFD_AUTOKILL", 37: "EMPTY_MNTNS"}
BIT = {"CLONE_" + n: b for b, n in NAMES.items()}
F = {n: 1 << b for b, n in NAMES.items()}
NEW = (F["NEWNS"] | F["NEWCGROUP"] | F["NEWUTS"] | F["NEWIPC"] | F["NEWUSER"] |
       F["NEWPID"] | F["NEWNET"] | F["NEWTIME"] | F["EMPTY_MNTNS"])
SHARE = F["FS"] | F["FILES"] | F["SYSVSEM"] | F["PARENT"] | F["IO"]


def flag_name(bit):
    return "CLONE_" + NAMES[bit] if bit in NAMES else "bit%d" % bit


# The README's classes, first match wins: what each class's flags must be.
def flags_fit(cls, f):
    if cls == "fork":
        return not f & (NEW | F["THREAD"] | F["VFORK"] | F["VM"] | SHARE)
    if cls == "vfork":
        return not f & (NEW | F["THREAD"]) and f & F["VFORK"] and f & F["VM"]
    if cls == "thread":
        return (not f & NEW and f & F["THREAD"] and f & F["VM"]
                and f & F["SIGHAND"])
    return False


bad = []


def expect(what, got, want):
    if got != want:
        bad.append("%s: %s, want %s" % (what, got, want))


counters = {}
text = open(proc).read()
for line in text.split("\nsection counters\n", 1)[1].splitlines():
    k, _, v = line.partition(" ")
    counters[k] = int(v) if v.lstrip("-").isdigit() else v


def c(name):
    return counters.get(name, 0)


# The events' class names, which trace.h writes out for __print_symbolic():
# in each format file, after the kernel put the enum's values in
# (TRACE_DEFINE_ENUM), value i names the i-th class /proc/clonestat counts.
classes = [k[len("class."):-len(".calls")] for k in counters
           if k.startswith("class.") and k.endswith(".calls") and k.count(".") == 2]
expect("classes in /proc/clonestat", classes, CLASSES)
for event in ("clone", "first_run", "cow_bill"):
    with open("/sys/kernel/tracing/events/clonestat/%s/format" % event) as f:
        fmt = f.read().split("print fmt:", 1)[-1]
    expect("%s's format: the class names" % event,
           re.findall(r'\{\s*(\w+),\s*"([^"]*)"\s*\}', fmt),
           [(str(i), k) for i, k in enumerate(classes)])


def csum(prefix):
    return sum(v for k, v in counters.items() if k.startswith(prefix))


# "comm-PID [CPU] TIMESTAMP: EVENT: FIELDS" (trace-cmd report's default).
line_re = re.compile(r"-(\d+)\s+\[\d+\]\s.*?\s(clone|first_run|cow_bill|cow):\s+(\S.*)$")
ev = {"clone": [], "first_run": [], "cow": [], "cow_bill": []}
for line in open(report):
    if "LOST" in line and "EVENTS" in line:
        bad.append("trace-cmd lost events: " + line.strip())
    m = line_re.search(line)
    if not m:
        continue
    fields = dict(kv.split("=", 1) for kv in m.group(3).split() if "=" in kv)
    fields["pid"] = int(m.group(1))
    ev[m.group(2)].append(fields)
print("events: " + ", ".join("%s %d" % (k, len(v)) for k, v in ev.items()))

# What made the events exact: nothing dropped, missed or killed.
for k in ("drops.nested", "drops.inflight", "drops.child", "drops.bill", "drops.cow",
          "missed.kernel_clone", "missed.mm_copy", "missed.do_wp_page",
          "first_run.killed"):
    expect(k, c(k), 0)

# clone: a class each, and the workloads' numbers of each, failures too.
clones = ev["clone"]
for e in clones:
    for k in ("child", "result", "lat_ns", "copy_ns", "mm_ns", "rest_ns",
              "parent_kib", "untimed"):
        e[k] = int(e[k])
    e["flags"] = int(e["flags"], 0)
    if e["class"] not in CLASSES:
        bad.append("clone event with class %r" % e["class"])
for cls in CLASSES:
    mine = [e for e in clones if e["class"] == cls]
    ok = [e for e in mine if e["result"] == 0]
    failed = [e for e in mine if e["result"] != 0]
    expect("clone events, class %s, result 0" % cls, len(ok), OK.get(cls, 0))
    expect("clone events, class %s, failed" % cls, len(failed), FAILED.get(cls, 0))
    expect("class.%s.calls" % cls, c("class.%s.calls" % cls),
           OK.get(cls, 0) + FAILED.get(cls, 0))
    expect("class.%s.failed" % cls, c("class.%s.failed" % cls), FAILED.get(cls, 0))
    # Sums of the events' fields: the module's sums.
    for f, counter in (("lat_ns", "lat_sum_ns"), ("copy_ns", "copy_ns"),
                       ("mm_ns", "mm_ns"), ("rest_ns", "rest_ns")):
        expect("sum of %s events' %s" % (cls, f), sum(e[f] for e in mine),
               c("class.%s.%s" % (cls, counter)))
    if mine:
        # One code path a class in the workload: one flags value.
        values = sorted(set(e["flags"] for e in mine))
        if len(values) != 1:
            bad.append("%s events with flags %s: want one value" %
                       (cls, ", ".join(hex(v) for v in values)))
        for v in values:
            if not flags_fit(cls, v):
                bad.append("%s event with flags %#x: not a %s's" % (cls, v, cls))
        print("%s: %d events, flags %s" % (cls, len(mine), " ".join(hex(v) for v in values)))
expect("ok", c("ok"), sum(OK.values()))
expect("failed", c("failed"), sum(FAILED.values()))
expect("errno.EAGAIN", c("errno.EAGAIN"), 1)
for e in clones:
    what = "clone event (%s, pid %d, child %d)" % (e["class"], e["pid"], e["child"])
    if e["result"] == 0 and e["child"] <= 0:
        bad.append(what + ": no child pid")
    if e["result"] != 0:
        expect(what + " result", e["result"], -EAGAIN)
        expect(what + " child", e["child"], 0)
    expect(what + " untimed", e["untimed"], 0)
    expect(what + " copy+mm+rest", e["copy_ns"] + e["mm_ns"] + e["rest_ns"], e["lat_ns"])
    if e["lat_ns"] <= 0:
        bad.append(what + ": lat_ns %d" % e["lat_ns"])
    if e["parent_kib"] <= 0:
        bad.append(what + ": parent_kib %d" % e["parent_kib"])
    # Only a fork copies the address space: its mm phase, where timed.
    if e["class"] != "fork":
        expect(what + " mm_ns", e["mm_ns"], 0)
    elif e["result"] == 0 and c("mm_copy_probe") != "none" and e["mm_ns"] <= 0:
        bad.append(what + ": mm_ns 0 with mm_copy_probe %s" % c("mm_copy_probe"))
# Per flag bit: as many events as the flag.* counter says.
bits = {}
for e in clones:
    for b in range(64):
        if e["flags"] >> b & 1:
            bits[b] = bits.get(b, 0) + 1
named = {}
for k, v in counters.items():
    if k.startswith("flag.CLONE_") and k[5:] in BIT:
        named[BIT[k[5:]]] = v
    elif k.startswith("flag.bit") and k[8:].isdigit():
        named[int(k[8:])] = v
    elif k.startswith("flag."):
        bad.append("counter %s: not a flag this test knows" % k)
for b in sorted(set(bits) | set(named)):
    expect("events with %s" % flag_name(b), bits.get(b, 0), named.get(b, 0))
expect("events with CLONE_VFORK", bits.get(14, 0), OK["vfork"])
expect("events with CLONE_THREAD", bits.get(16, 0), OK["thread"])

children = {}
for e in clones:
    if e["result"] == 0:
        if e["child"] in children:
            bad.append("child pid %d in two clone events" % e["child"])
        children[e["child"]] = e["class"]
forked = {p for p, cls in children.items() if cls == "fork"}

# first_run: in each child, once, of its class.
runs = ev["first_run"]
expect("first_run events", len(runs), sum(OK.values()))
seen = {}
for e in runs:
    seen[e["pid"]] = seen.get(e["pid"], 0) + 1
    if e["pid"] not in children:
        bad.append("first_run in pid %d, no clone event's child" % e["pid"])
    elif e["class"] != children[e["pid"]]:
        bad.append("first_run in pid %d: class %s, its clone event's %s" %
                   (e["pid"], e["class"], children[e["pid"]]))
    expect("first_run in pid %d killed" % e["pid"], e["killed"], "0")
for p in children:
    expect("first_run events in child %d" % p, seen.get(p, 0), 1)
for cls in CLASSES:
    for same, where in (("1", "same_cpu"), ("0", "other_cpu")):
        expect("first_run events, %s, %s" % (cls, where),
               len([e for e in runs if e["class"] == cls and e["same_cpu"] == same]),
               csum("hist.first_run.%s.%s." % (cls, where)))
    expect("sum of first_run lat_ns, " + cls,
           sum(int(e["lat_ns"]) for e in runs if e["class"] == cls),
           c("first_run.%s.lat_sum_ns" % cls))

# cow: as many as counted, each outcome, timed as the method says.
cows = ev["cow"]
outcome = {"copy": "copies", "reuse": "reuses", "other": "other"}
for o, name in outcome.items():
    expect("cow events, outcome %s" % o, len([e for e in cows if e["outcome"] == o]),
           c("cow." + name))
expect("cow events", len(cows), c("cow.copies") + c("cow.reuses") + c("cow.other"))
timed = str(c("cow.method")).startswith("do_wp_page")
for e in cows:
    if e["outcome"] not in outcome:
        bad.append("cow event with outcome %r" % e["outcome"])
    if e["timed"] != ("1" if timed else "0") or (not timed and e["lat_ns"] != "0"):
        bad.append("cow event timed=%s lat_ns=%s with cow.method %s" %
                   (e["timed"], e["lat_ns"], c("cow.method")))
expect("timed cow events", len([e for e in cows if e["timed"] == "1"]),
       csum("hist.cow_latency."))
expect("sum of cow lat_ns", sum(int(e["lat_ns"]) for e in cows), c("cow.lat_sum_ns"))

# cow_bill: one per forked child, closed in it, billing its copies.
bills = ev["cow_bill"]
expect("cow_bill events", len(bills), OK["fork"])
expect("bill.fork.forks", c("bill.fork.forks"), OK["fork"])
copies = {}
for e in cows:
    if e["outcome"] == "copy":
        copies[e["pid"]] = copies.get(e["pid"], 0) + 1
closed = {}
for e in bills:
    closed[e["pid"]] = closed.get(e["pid"], 0) + 1
    expect("cow_bill in pid %d class" % e["pid"], e["class"], "fork")
    expect("cow_bill in pid %d child_copies (its copy events)" % e["pid"],
           int(e["child_copies"]), copies.get(e["pid"], 0))
for p in forked:
    expect("cow_bill events in forked child %d" % p, closed.get(p, 0), 1)
for p in closed:
    if p not in forked:
        bad.append("cow_bill in pid %d, no forked child" % p)
for f in ("child_copies", "parent_copies"):
    expect("sum of cow_bill %s" % f, sum(int(e[f]) for e in bills), c("bill.fork." + f))
most = max([int(e["child_copies"]) for e in bills] or [0])
if most < COW_PAGES:
    bad.append("largest cow_bill child_copies %d: the COW child wrote %d pages" %
               (most, COW_PAGES))

for b in bad:
    print(b)
print("%d mismatches" % len(bad))
sys.exit(1 if bad else 0)
PY
