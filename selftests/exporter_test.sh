#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the VM, with clonestat loaded (clonestat.sh runs it): a workload,
# recording disabled so the numbers stay put, scripts/clonestat-exporter
# into a textfile directory, promtool check metrics on the file, then
# Debian's prometheus-node-exporter serving that directory: its /metrics
# must carry the clonestat series with the values /proc/clonestat shows.
#
# usage: exporter_test.sh DIR_WITH_CLONE_WORKLOAD

set -u
progs=$1
top=$(dirname "$(dirname "$(readlink -f "$0")")")
dir=$(mktemp -d)
port=9911
for p in prometheus-node-exporter promtool python3; do
	command -v $p > /dev/null || { echo "no $p"; exit 1; }
done

"$progs/clone_workload" -f 12 -v 5 -t 7 -c 16 > /dev/null || exit 1
echo disable > /proc/clonestat
"$top/scripts/clonestat-exporter" --dir "$dir" || { echo "the exporter failed"; exit 1; }
[ "$(ls "$dir")" = clonestat.prom ] || { echo "left in $dir: $(ls "$dir")"; exit 1; }
promtool check metrics < "$dir/clonestat.prom" || { echo "promtool rejects the file"; exit 1; }

ip link set lo up
prometheus-node-exporter --web.listen-address=127.0.0.1:$port \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$dir" > "$dir.log" 2>&1 &
ne=$!
trap 'kill $ne 2> /dev/null; wait $ne 2> /dev/null; echo enable > /proc/clonestat; rm -rf "$dir" "$dir.log"' EXIT

python3 - "$port" <<'PY'
import sys, time, urllib.request

port = sys.argv[1]
text = None
for _ in range(100):
    try:
        text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
        break
    except OSError:
        time.sleep(0.2)
if text is None:
    sys.exit("node_exporter did not answer")
metrics = {}
for line in text.splitlines():
    if line.startswith("clonestat_"):
        name, _, value = line.rpartition(" ")
        metrics[name] = float(value)
counters = {}
for line in open("/proc/clonestat"):
    k, _, v = line.strip().partition(" ")
    if v.lstrip("-").isdigit():
        counters[k] = int(v)
checks = []
for c in ("fork", "vfork", "thread", "kthread", "worker"):
    calls = counters["class.%s.calls" % c]
    checks.append(('clonestat_creations_total{class="%s"}' % c, calls))
    checks.append(('clonestat_creation_latency_seconds_count{class="%s"}' % c,
                   calls - counters["class.%s.untimed" % c]))
    checks.append(('clonestat_cow_pages_per_fork_count{class="%s"}' % c,
                   counters["bill.%s.forks" % c]))
for o in ("copies", "reuses"):
    checks.append(('clonestat_cow_faults_total{outcome="%s"}' % o, counters["cow." + o]))
checks.append(('clonestat_recording', 0))
bad = 0
for name, want in checks:
    got = metrics.get(name)
    if got != want:
        print("%s: /metrics says %s, /proc/clonestat %s" % (name, got, want))
        bad = 1
if counters["class.fork.calls"] < 12 or counters["class.thread.calls"] < 7:
    print("the workload was not counted")
    bad = 1
print("%d clonestat series in /metrics; %d checked against /proc/clonestat" % (len(metrics), len(checks)))
sys.exit(bad)
PY
