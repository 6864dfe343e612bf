#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the VM, with clonestat loaded (clonestat.sh runs it), under "filter
# comm clone_workload" from a reset:
#
# 1. tools/clonestat-exporter writes once with every counter zero, then
#    after clone_workload -f 12 -v 5 -t 7 -c 16 (13 forks, 5 vforks, 7
#    threads) with recording disabled: promtool check metrics accepts the
#    file; both writes have the same series but for the flag and errno
#    families (only non-zero ones exist); every histogram has exactly the
#    documented buckets (le 2^10 .. 2^34 ns in factors of 4, in seconds;
#    1 .. 4^10 pages) and +Inf.
# 2. Debian's prometheus-node-exporter serves that directory: in its
#    /metrics, the workload's numbers exactly (creations, latency and
#    first-run counts per class, vfork blocked, COW bills, the flags), every
#    series checked against /proc/clonestat's counters, and every histogram
#    bucket against /proc/clonestat's histogram sections: le=L counts the
#    log2 buckets that end at or below L, _count and +Inf all of them,
#    _sum the counter's sum.
# 3. --interval 0.5 while a reader reads the file in a loop and a second
#    workload (clone_workload -f 3 -v 2 -t 4) runs: every read is a whole
#    file (its last line, every family), each write a new inode (a
#    rename, not a rewrite in place), no other *.prom file appears, the
#    file shows first the first workload's numbers and then both's, and
#    no more writes than the interval allows.
# 4. --dir on a path that is no directory: one line on stderr, exit 1.
#
# usage: exporter_test.sh DIR_WITH_CLONE_WORKLOAD

set -u
progs=$1
top=$(dirname "$(dirname "$(readlink -f "$0")")")
exporter=$top/tools/clonestat-exporter
tmp=$(mktemp -d)
port=9911
ne=
for p in prometheus-node-exporter promtool python3; do
	command -v $p > /dev/null || { echo "no $p"; exit 1; }
done
cleanup() {
	[ -n "$ne" ] && { kill "$ne" 2> /dev/null; wait "$ne" 2> /dev/null; }
	echo enable > /proc/clonestat
	echo "filter clear" > /proc/clonestat
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/zero" "$tmp/text" "$tmp/interval" || exit 1

echo "filter comm clone_workload" > /proc/clonestat || exit 1
echo reset > /proc/clonestat || exit 1
"$exporter" --dir "$tmp/zero" || { echo "the exporter failed"; exit 1; }
"$progs/clone_workload" -f 12 -v 5 -t 7 -c 16 > /dev/null || { echo "the workload failed"; exit 1; }
echo disable > /proc/clonestat
"$exporter" --dir "$tmp/text" || { echo "the exporter failed"; exit 1; }
[ "$(ls "$tmp/text")" = clonestat.prom ] || { echo "left in the directory: $(ls "$tmp/text")"; exit 1; }
promtool check metrics < "$tmp/text/clonestat.prom" || { echo "promtool rejects the file"; exit 1; }
cat /proc/clonestat > "$tmp/proc" || exit 1

# A --dir that is not a directory: one line and exit 1.
"$exporter" --dir "$tmp/none" > "$tmp/out" 2> "$tmp/err"
st=$?
if [ $st != 1 ] || [ -s "$tmp/out" ] || [ "$(awk 'END { print NR }' "$tmp/err")" != 1 ] ||
   ! grep -q "^clonestat-exporter: .*not a directory" "$tmp/err"; then
	echo "--dir $tmp/none: exit $st, want 1 and one line on stderr:"
	cat "$tmp/out" "$tmp/err"
	exit 1
fi
echo "--dir $tmp/none: $(cat "$tmp/err")"

ip link set lo up
prometheus-node-exporter --web.listen-address=127.0.0.1:$port \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$tmp/text" > "$tmp/ne.log" 2>&1 &
ne=$!

python3 - "$port" "$tmp/text/clonestat.prom" "$tmp/zero/clonestat.prom" "$tmp/proc" <<'PY' || exit 1
import re
import sys
import time
import urllib.request

port, prom, zero, proc = sys.argv[1:]
CLASSES = ["fork", "vfork", "thread", "shared_vm", "namespace", "kthread",
           "worker", "other"]
WORKLOAD = {"fork": 13, "vfork": 5, "thread": 7}
COW_PAGES = 16
NS = 1e9
# The documented buckets: powers of 4 from 2^10 ns (1 us) to 2^34 ns
# (17 s), in seconds; powers of 4 pages from 1 to 1 Mi.  As bound
# (float, as written) -> bound in the histogram's unit (ns or pages).
NS_LE = {(1 << b) / NS: 1 << b for b in range(10, 35, 2)}
PAGE_LE = {float(4 ** k): 4 ** k for k in range(11)}
HISTOGRAMS = {"clonestat_creation_latency_seconds": NS_LE,
              "clonestat_first_run_latency_seconds": NS_LE,
              "clonestat_vfork_blocked_seconds": NS_LE,
              "clonestat_cow_pages_per_fork": PAGE_LE}
# Families whose series exist only when non-zero (flag.*, errno.*).
SPARSE = ("clonestat_clone_flag_total", "clonestat_errors_total")

sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, ((label, value), ...)): float} of the clonestat_ samples."""
    out = {}
    for line in text.splitlines():
        if not line.startswith("clonestat_"):
            continue
        m = sample_re.match(line)
        if not m:
            sys.exit("not a sample: %r" % line)
        # le as a number: node_exporter writes 1024.0 as 1024.
        labels = tuple(sorted((k, repr(float(v)) if k == "le" else v)
                              for k, v in label_re.findall(m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def family(name):
    for h in HISTOGRAMS:
        if name in (h + "_bucket", h + "_sum", h + "_count"):
            return h
    return name


bad = []


def expect(what, got, want):
    if got != want:
        bad.append("%s: %s, want %s" % (what, got, want))


# 1. The file: the same series at every write, the documented buckets.
file_series = parse(open(prom).read())
zero_series = parse(open(zero).read())
a = {k for k in file_series if family(k[0]) not in SPARSE}
b = {k for k in zero_series if family(k[0]) not in SPARSE}
for k in sorted(a ^ b):
    bad.append("series %s only in the write %s" % (k, "after the workload" if k in a else
                                                    "with every counter zero"))
for h in HISTOGRAMS:
    if not any(family(k[0]) == h for k in b):
        bad.append("no %s in the write with every counter zero" % h)
text = None
for _ in range(100):
    try:
        text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
        break
    except OSError:
        time.sleep(0.2)
if text is None:
    sys.exit("node_exporter did not answer")
metrics = parse(text)
for k in sorted(set(metrics) ^ set(file_series))[:10]:
    bad.append("series %s only in %s" % (k, "/metrics" if k in metrics else "the file"))

# /proc/clonestat: counters, and the histogram sections' lines.
counters, sections, cur = {}, {}, None
for line in open(proc).read().splitlines():
    if line.startswith("section "):
        cur = line[8:]
        sections[cur] = []
        continue
    if cur == "counters":
        k, _, v = line.partition(" ")
        counters[k] = int(v) if v.lstrip("-").isdigit() else v
    m = re.match(r'^\s*(\d+) \.\. (\d+)\s+(\d+)\s+\|', line)
    if m and cur is not None:
        sections[cur].append(tuple(int(x) for x in m.groups()))


def c(k):
    return counters.get(k, 0)


def m(name, **labels):
    return metrics.get((name, tuple(sorted(labels.items()))))


# The workload, exactly.
for k in CLASSES:
    n = WORKLOAD.get(k, 0)
    expect("creations_total %s" % k, m("clonestat_creations_total", **{"class": k}), n)
    expect("creation_failures_total %s" % k,
           m("clonestat_creation_failures_total", **{"class": k}), 0)
    expect("creation_latency_seconds_count %s" % k,
           m("clonestat_creation_latency_seconds_count", **{"class": k}), n)
    expect("first_run_latency_seconds_count %s" % k,
           m("clonestat_first_run_latency_seconds_count", **{"class": k}), n)
    expect("cow_pages_per_fork_count %s" % k,
           m("clonestat_cow_pages_per_fork_count", **{"class": k}), WORKLOAD["fork"] if k == "fork" else 0)
expect("vfork_blocked_seconds_count", m("clonestat_vfork_blocked_seconds_count"), WORKLOAD["vfork"])
for f, n in (("CLONE_VFORK", WORKLOAD["vfork"]), ("CLONE_THREAD", WORKLOAD["thread"]),
             ("CLONE_VM", WORKLOAD["vfork"] + WORKLOAD["thread"])):
    expect("clone_flag_total %s" % f, m("clonestat_clone_flag_total", flag=f), n)
expect("errors_total series", [k for k in metrics if k[0] == "clonestat_errors_total"], [])
for k, v in metrics.items():
    if k[0] == "clonestat_not_recorded_total":
        expect("not_recorded_total %s" % dict(k[1])["cause"], v, 0)
if (m("clonestat_cow_pages_per_fork_sum", **{"class": "fork"}) or 0) < COW_PAGES:
    bad.append("cow_pages_per_fork_sum fork %s: the COW child wrote %d pages" %
               (m("clonestat_cow_pages_per_fork_sum", **{"class": "fork"}), COW_PAGES))
if (m("clonestat_cow_faults_total", outcome="copies") or 0) < COW_PAGES:
    bad.append("cow_faults_total copies %s, want %d or more" %
               (m("clonestat_cow_faults_total", outcome="copies"), COW_PAGES))
expect("recording", m("clonestat_recording"), 0)

# Every counter series against /proc/clonestat.
checks = []
for k in CLASSES:
    checks.append((("clonestat_creations_total", {"class": k}), c("class.%s.calls" % k)))
    checks.append((("clonestat_creation_failures_total", {"class": k}), c("class.%s.failed" % k)))
    for ph in ("copy", "mm", "rest"):
        checks.append((("clonestat_creation_phase_seconds_total", {"class": k, "phase": ph}),
                       c("class.%s.%s_ns" % (k, ph)) / NS))
    checks.append((("clonestat_cow_parent_copies_total", {"class": k}),
                   c("bill.%s.parent_copies" % k)))
for o in ("copies", "reuses", "other"):
    checks.append((("clonestat_cow_faults_total", {"outcome": o}), c("cow." + o)))
for k, v in counters.items():
    if k.startswith("flag."):
        checks.append((("clonestat_clone_flag_total", {"flag": k[5:]}), v))
    if k.startswith("errno."):
        checks.append((("clonestat_errors_total", {"errno": k[6:]}), v))
    if k.startswith("drops.") or k.startswith("missed."):
        checks.append((("clonestat_not_recorded_total", {"cause": k}), v))
checks.append((("clonestat_resets_total", {}), int(open(proc).read().split("\nresets ")[1].split()[0])))
checks.append((("clonestat_recording", {}), 0))
checks.append((("clonestat_memory_bytes", {}), c("memory.total_bytes")))
for (name, labels), want in checks:
    expect("%s%s" % (name, labels or ""), m(name, **labels), want)

# Every histogram, bucket by bucket, against /proc/clonestat's sections.
hists = []
for k in CLASSES:
    hists.append(("clonestat_creation_latency_seconds", {"class": k}, ["latency " + k],
                  c("class.%s.lat_sum_ns" % k) / NS))
    hists.append(("clonestat_first_run_latency_seconds", {"class": k},
                  ["first_run %s same_cpu" % k, "first_run %s other_cpu" % k],
                  c("first_run.%s.lat_sum_ns" % k) / NS))
    hists.append(("clonestat_cow_pages_per_fork", {"class": k}, ["cow_pages_per_fork " + k],
                  c("bill.%s.child_copies" % k)))
hists.append(("clonestat_vfork_blocked_seconds", {}, ["vfork_blocked"],
              c("vfork_blocked_sum_ns") / NS))
nbuckets = 0
for name, labels, titles, total in hists:
    rows = [r for t in titles for r in sections.get(t, [])]
    what = "%s%s" % (name, labels or "")
    les = {}
    for (n, lab), v in metrics.items():
        d = dict(lab)
        if n == name + "_bucket" and {k: v2 for k, v2 in d.items() if k != "le"} == labels:
            les[d["le"]] = v
    documented = HISTOGRAMS[name]
    expect(what + " buckets", sorted(float(le) for le in les),
           sorted(list(documented) + [float("inf")]))
    for le, v in les.items():
        if float(le) == float("inf"):
            want = sum(n for _, _, n in rows)
        else:
            bound = documented.get(float(le))
            want = sum(n for _, hi, n in rows if hi <= bound) if bound else None
        expect("%s le=%s" % (what, le), v, want)
        nbuckets += 1
    expect(what + "_count", m(name + "_count", **labels), sum(n for _, _, n in rows))
    expect(what + "_sum", m(name + "_sum", **labels), total)
for b in bad:
    print(b)
print("%d clonestat series in /metrics; %d counters and %d histogram buckets checked "
      "against /proc/clonestat; %d mismatches" % (len(metrics), len(checks), nbuckets, len(bad)))
sys.exit(1 if bad else 0)
PY
kill "$ne"
wait "$ne" 2> /dev/null
ne=

# 3. --interval: whole files only, a new inode each write, the values
# following /proc/clonestat.
python3 - "$exporter" "$tmp/interval" "$progs/clone_workload" <<'PY'
import os
import re
import subprocess
import sys
import time

exporter, d, workload = sys.argv[1:]
INTERVAL = 0.5
TIMEOUT = 120
path = os.path.join(d, "clonestat.prom")
sample_re = re.compile(r'^clonestat_[a-zA-Z0-9_:]*(\{.*\})? \S+$')
class_re = re.compile(r'^clonestat_creations_total\{class="(fork|vfork|thread)"\} (\S+)$', re.M)
FIRST = {"fork": 13, "vfork": 5, "thread": 7}
BOTH = {"fork": 16, "vfork": 7, "thread": 11}     # and clone_workload -f 3 -v 2 -t 4


def whole(text, families):
    """Whether text is a whole file: every line a sample or a comment, the
    last one last, as many families as the first read had."""
    lines = text.split("\n")
    n = sum(1 for l in lines if l.startswith("# TYPE "))
    return (len(lines) > 2 and lines[-1] == "" and lines[-2].startswith("clonestat_memory_bytes ")
            and all(l.startswith("#") or sample_re.match(l) for l in lines[:-1])
            and families in (None, n)), n


exp = subprocess.Popen([exporter, "--dir", d, "--interval", str(INTERVAL)],
                       stderr=subprocess.PIPE)
t0 = time.monotonic()
reads, inodes, families, bad = 0, [], None, []
phase, work, done, shown = "first", None, 0, 0
while time.monotonic() - t0 < TIMEOUT and len(bad) < 10:
    time.sleep(0.01)
    for name in os.listdir(d):
        if name.endswith(".prom") and name != "clonestat.prom":
            bad.append("%s in the directory: node_exporter would read it" % name)
    try:
        with open(path) as f:
            ino = os.fstat(f.fileno()).st_ino
            text = f.read()
    except FileNotFoundError:
        if inodes:
            bad.append("clonestat.prom missing after a write")
        continue
    reads += 1
    if ino not in inodes:
        inodes.append(ino)
    ok, n = whole(text, families)
    if not ok:
        bad.append("read %d: not a whole file (%d bytes, %d families, ends %r)" %
                   (reads, len(text), n, text[-60:]))
        continue
    families = n
    got = {k: int(float(v)) for k, v in class_re.findall(text)}
    if not all(FIRST[k] <= got.get(k, -1) <= BOTH[k] for k in FIRST):
        bad.append("read %d: %s, want from %s to %s" % (reads, got, FIRST, BOTH))
    if phase == "first":
        if got != FIRST:
            bad.append("before the second workload: %s, want %s" % (got, FIRST))
        if len(inodes) >= 2:
            with open("/proc/clonestat", "w") as f:
                f.write("enable\n")
            work = subprocess.Popen([workload, "-f", "3", "-v", "2", "-t", "4"],
                                    stdout=subprocess.DEVNULL)
            phase = "running"
    elif phase == "running":
        if work.poll() is not None:
            if work.returncode:
                bad.append("the second workload failed: %d" % work.returncode)
            phase, done = "done", len(inodes)
    elif phase == "done":
        # The second write after the workload ended read /proc/clonestat
        # after it ended.
        if got == BOTH:
            phase, shown = "shown", len(inodes)
        elif len(inodes) > done + 2:
            bad.append("after the second workload: %s, want %s" % (got, BOTH))
    elif phase == "shown" and len(inodes) >= shown + 2:
        break
elapsed = time.monotonic() - t0
exp.terminate()
err = exp.communicate()[1].decode()
if err:
    bad.append("the exporter said: " + err.strip())
if phase != "shown" or len(inodes) < shown + 2:
    bad.append("after %.1f s: phase %s, %d writes seen (a write that is not a rename "
               "keeps the inode)" % (elapsed, phase, len(inodes)))
if len(inodes) > elapsed / INTERVAL + 2:
    bad.append("%d writes in %.1f s with --interval %g" % (len(inodes), elapsed, INTERVAL))
for b in bad:
    print(b)
print("--interval %g: %d reads in %.1f s, %d writes seen, each a whole file under a new inode"
      % (INTERVAL, reads, elapsed, len(inodes)) if not bad else "%d problems" % len(bad))
sys.exit(1 if bad else 0)
PY
