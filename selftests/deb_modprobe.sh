#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb_modprobe.sh: in the VM, for scripts/deb-check.  MODS/VERSION/updates
# holds what DKMS installed under /lib/modules/ABI/updates for each
# version; TOOLS the packaged clonestat and clonestat-exporter.  Prints
# "result ok|fail WHAT" lines.
#
# usage: deb_modprobe.sh MODS TOOLS VERSION NEWER-VERSION

set -u
mods=$1 tools=$2 ver=$3 new=$4
lib=/lib/modules/$(uname -r)

result() { # result STATUS WHAT
	if [ "$1" -eq 0 ]; then echo "result ok $2"; else echo "result fail $2"; fi
}

# load VERSION: that version's updates/ tree in place, depmod, modprobe.
load() {
	rm -rf "$lib/updates"
	cp -a "$mods/$1/updates" "$lib/" || return 1
	depmod -a || return 1
	modprobe clonestat || return 1
	echo "modinfo: $(modinfo -F filename clonestat)"
	echo "version: $(cat /sys/module/clonestat/version)"
	[ "$(cat /sys/module/clonestat/version)" = "$1" ] &&
		[ "$(head -n 1 /proc/clonestat)" = "clonestat version 1" ]
}

load "$ver"
result $? "modprobe clonestat loads the DKMS-built $ver"

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
tools
result $? "the packaged clonestat show --json and clonestat-exporter count a shell's 7 forks"

modprobe -r clonestat
result $? "modprobe -r clonestat unloads it"

load "$new"
result $? "after the upgrade, modprobe clonestat loads the DKMS-built $new"
modprobe -r clonestat
