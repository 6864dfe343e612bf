#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the VM (scripts/dkms-check): install the DKMS-built module KO into
# this kernel's module tree, modprobe it by name, check its version.
#
# usage: dkms_modprobe.sh KO VERSION

set -u
ko=$1 ver=$2
dir=/lib/modules/$(uname -r)/updates/dkms
mkdir -p "$dir" && cp "$ko" "$dir/" && depmod -a || exit 1
modprobe clonestat || { echo "modprobe clonestat failed"; exit 1; }
got=$(cat /sys/module/clonestat/version)
[ "$got" = "$ver" ] || { echo "version $got, DKMS package $ver"; modprobe -r clonestat; exit 1; }
read -r first < /proc/clonestat
[ "$first" = "clonestat version 1" ] || { echo "first line: $first"; exit 1; }
modprobe -r clonestat || exit 1
echo "modprobe clonestat: version $got, /proc/clonestat read, removed"
