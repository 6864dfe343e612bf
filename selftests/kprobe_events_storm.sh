#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own kprobe_events, no clonestat: a kprobe on copy_process()
# and a kretprobe on kernel_clone() added, enabled, disabled and removed
# CYCLES times (default 300) while every CPU forks.  Under multi-threaded
# TCG this crashes Debian's 6.1 and 6.12 kernels, untainted; under
# single-threaded TCG it does not (README, "Known problems").
# clonestat.sh's reload storm runs it first, as its control.  By hand:
#
#   scripts/vm-run --tcg-thread multi -k IMAGE -a ABI -b BUILD -- \
#	selftests/kprobe_events_storm.sh BUILD [CYCLES]
#
# BUILD holds clone_workload (make check leaves one in build/KERNEL).

set -u
progs=${1:?usage: kprobe_events_storm.sh DIR_WITH_CLONE_WORKLOAD [CYCLES]}
cycles=${2:-300}
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs nodev $T || exit 1
pids=()
for i in $(seq "$(nproc)"); do
	(while :; do "$progs/clone_workload" -f 20 -v 5 -t 10 -c 64 > /dev/null; done) &
	pids+=($!)
done
for i in $(seq "$cycles"); do
	echo 'p:cs/cp copy_process' > $T/kprobe_events || exit 1
	echo 'r:cs/kc kernel_clone' >> $T/kprobe_events || exit 1
	echo 1 > $T/events/cs/enable
	sleep 0.05
	echo 0 > $T/events/cs/enable
	echo > $T/kprobe_events
done
kill "${pids[@]}"
wait
echo "$cycles cycles done; tainted=$(cat /proc/sys/kernel/tainted)"
