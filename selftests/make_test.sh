#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the VM, with clonestat loaded (clonestat.sh runs it): a parallel
# build.  make -j2 of a C project of UNITS files and a main, written
# here (a compile a file, one link), runs in a cgroup of its own under
# "filter cgroup" of it, with step timing on, from a reset, and traced by
# trace-cmd: the kernel's task:task_newtask events of the build's process
# tree (-F -c), an independent count.  Asserts:
#
#   - per class, clonestat's creations = the events of that class (told
#     from their clone_flags: CLONE_VFORK, CLONE_THREAD, CLONE_VM, else
#     fork), and the total is the number of events; none failed;
#   - the compiler runs: the gcc drivers that created tasks (rows of comm
#     gcc) and make's vforks (it spawns each recipe) = the build's own
#     count of compiler runs, UNITS + 2 (each file and the link), which
#     make -n lists;
#   - step.CLASS.creations = class.CLASS.calls.
#
# usage: make_test.sh [UNITS]

set -u
units=${1:-8}
P=/proc/clonestat
for p in trace-cmd make gcc; do
	command -v $p > /dev/null || { echo "no $p"; exit 1; }
done
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup || exit 1
name=clonestat-make-$$
cg=/sys/fs/cgroup/$name
tmp=$(mktemp -d)
trap 'rmdir "$cg" 2> /dev/null; rm -rf "$tmp"; echo "filter clear" > $P; echo "steps off" > $P' EXIT
mkdir "$cg" || exit 1

# The project.
src=$tmp/src
mkdir "$src"
objs=main.o
for i in $(seq "$units"); do
	printf 'int f%d(int x)\n{\n\treturn x * %d;\n}\n' "$i" "$i" > "$src/f$i.c"
	objs="$objs f$i.o"
done
{
	for i in $(seq "$units"); do echo "int f$i(int x);"; done
	echo "int main(void)"
	echo "{"
	printf '\treturn f1(0)'
	for i in $(seq 2 "$units"); do printf ' + f%d(0)' "$i"; done
	printf ';\n}\n'
} > "$src/main.c"
printf 'prog: %s\n\tgcc -o $@ %s\n%%.o: %%.c\n\tgcc -c -o $@ $<\n' "$objs" "$objs" > "$src/Makefile"
# The build's own count of compiler runs.
runs=$(make -n -C "$src" | grep -c '^gcc ')

echo "filter clear" > $P && echo "filter cgroup /$name" > $P &&
	echo "steps on" > $P && echo reset > $P || exit 1
trace-cmd record -q -o "$tmp/t.dat" -e task:task_newtask -F -c \
	sh -c "echo \$\$ > $cg/cgroup.procs && exec make -j2 -C $src" > "$tmp/make.log" 2>&1 ||
	{ echo "the build failed:"; cat "$tmp/make.log"; exit 1; }
[ -x "$src/prog" ] || { echo "no program built"; cat "$tmp/make.log"; exit 1; }
cat $P > "$tmp/after"
trace-cmd report -i "$tmp/t.dat" 2> /dev/null | grep 'task_newtask:' > "$tmp/events"

ctr() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$tmp/after"; }
fail=0
is() { [ "$2" = "$3" ] && echo "$1: $2" || { echo "$1: $2, want $3"; fail=1; }; }
# The events by class, as clonestat classes them (no CLONE_NEW* here).
efork=0 evfork=0 ethread=0 eshared=0
for f in $(grep -o 'clone_flags=[0-9a-f]*' "$tmp/events" | cut -d= -f2); do
	f=$((16#$f))
	if ((f & 0x4000)); then evfork=$((evfork + 1))
	elif ((f & 0x10000)); then ethread=$((ethread + 1))
	elif ((f & 0x100)); then eshared=$((eshared + 1))
	else efork=$((efork + 1))
	fi
done
echo "task_newtask events: $(wc -l < "$tmp/events") (fork $efork, vfork $evfork, thread $ethread, shared_vm $eshared)"
is "class.fork.calls" "$(ctr class.fork.calls)" "$efork"
is "class.vfork.calls" "$(ctr class.vfork.calls)" "$evfork"
is "class.thread.calls" "$(ctr class.thread.calls)" "$ethread"
is "class.shared_vm.calls" "$(ctr class.shared_vm.calls)" "$eshared"
is "calls" "$(ctr calls)" "$(wc -l < "$tmp/events")"
is "failed" "$(ctr failed)" 0
for c in fork vfork thread; do
	is "step.$c.creations" "$(ctr "step.$c.creations")" "$(ctr "class.$c.calls")"
done
is "make -n: compiler runs" "$runs" $((units + 2))
is "rows of comm gcc" "$(sed -n '/^section tasks$/,/^$/p' "$tmp/after" | awk '$2 == "gcc"' | wc -l)" "$runs"
is "make's row: vforks (a compiler run each)" \
	"$(sed -n '/^section tasks$/,/^$/p' "$tmp/after" | awk '$2 == "make" { print $4 }')" "$runs"
sed -n '/^section tasks$/,/^$/p;/^section steps /,/^$/p;/^section worst$/,/^$/p' "$tmp/after"
exit $fail
