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
	# A workload that fails ends its loop: reported below.
	(while "$progs/clone_workload" -f 20 -v 5 -t 10 -c 64 > /dev/null; do :; done
	 exit 1) &
	pids+=($!)
done
# hits NAME: the hits of probe cs/NAME in kprobe_profile (which names
# it NAME, or cs/NAME on some kernels); 0 when not listed
hits() { awk -v p="$1" '$1 == p || $1 == "cs/" p { n = $2 } END { print n + 0 }' $T/kprobe_profile; }
for i in $(seq "$cycles"); do
	echo 'p:cs/cp copy_process' > $T/kprobe_events || exit 1
	echo 'r:cs/kc kernel_clone' >> $T/kprobe_events || exit 1
	echo 1 > $T/events/cs/enable || exit 1
	# Enabled while the storm runs: until both probes have fired.
	until [ "$(hits cp)" -gt 0 ] && [ "$(hits kc)" -gt 0 ]; do :; done
	echo 0 > $T/events/cs/enable || exit 1
	echo > $T/kprobe_events || exit 1
done
kill "${pids[@]}"
for pid in "${pids[@]}"; do
	wait "$pid"
	st=$?
	[ $st -eq 143 ] || { echo "a storm workload failed (loop status $st)"; exit 1; }
done
echo "$cycles cycles done; tainted=$(cat /proc/sys/kernel/tainted)"
