#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb_modprobe.sh: in the VM, for scripts/deb-check.  MODS/VERSION holds
# the module DKMS built for this kernel for each version; TOOLS the
# packaged clonestat and clonestat-exporter.  Each version is installed,
# loaded and removed by dkms_modprobe.sh, as dkms-check does.  Prints
# "result ok|fail WHAT" lines.
#
# usage: deb_modprobe.sh MODS TOOLS VERSION NEWER-VERSION

set -u
mods=$1 tools=$2 ver=$3 new=$4
here=$(dirname "$(readlink -f "$0")")

result() { # result STATUS WHAT
	if [ "$1" -eq 0 ]; then echo "result ok $2"; else echo "result fail $2"; fi
}

# dkms_load VERSION: dkms_modprobe.sh on that version's module.
dkms_load() {
	local ko
	ko=$(ls "$mods/$1"/clonestat.ko* 2> /dev/null | head -n 1)
	[ -n "$ko" ] || { echo "no module under $mods/$1"; return 1; }
	"$here/dkms_modprobe.sh" "$ko" "$1"
}

dkms_load "$ver"
result $? "modprobe clonestat loads the DKMS-built $ver (its version, the first line), modprobe -r removes it"

# Exactly 7 forks, by a shell that filters clonestat to itself, then
# resets it; both tools must say 7 forks.
tools() {
	local forks prom
	bash -c 'echo "filter tgid $$" > /proc/clonestat && echo reset > /proc/clonestat &&
		for i in 1 2 3 4 5 6 7; do /bin/true; done' || return 1
	forks=$("$tools/clonestat" show --json |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["classes"]["fork"]["calls"])')
	echo "clonestat show --json: $forks forks"
	prom=$(mktemp -d)
	"$tools/clonestat-exporter" --dir "$prom" || return 1
	grep -E '^clonestat_creations_total\{class="fork"\} ' "$prom/clonestat.prom"
	echo "filter clear" > /proc/clonestat
	[ "$forks" = 7 ] &&
		grep -qE '^clonestat_creations_total\{class="fork"\} 7$' "$prom/clonestat.prom"
}
modprobe clonestat && tools
rc=$?
modprobe -r clonestat || rc=1
result $rc "the packaged clonestat show --json and clonestat-exporter count a shell's 7 forks"

dkms_load "$new"
result $? "after the upgrade, modprobe clonestat loads the DKMS-built $new, modprobe -r removes it"
