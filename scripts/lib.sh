# SPDX-License-Identifier: GPL-2.0
# Shared helpers for clonestat's scripts: package installation, the kernel
# cache, and the mapping from an installed headers package to its image.
# Sourced, never run.

CLONESTAT_CACHE=${CLONESTAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clonestat}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

note() {
	echo "${0##*/}: $*" >&2
}

# What scripts/check needs on this machine (scripts/check-matrix installs
# it once, before its two lanes could both run apt-get).
CHECK_PKGS="gcc make libc6-dev liburing-dev sparse qemu-system-x86 busybox-static
	linux-source-6.1 kmod cpio xz-utils python3 iproute2 util-linux
	prometheus-node-exporter prometheus trace-cmd postgresql"

apt_updated=
# need_pkgs PKG...: install the Debian packages that are not installed yet.
need_pkgs() {
	local missing=() p lock
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root or install them"
	# One apt-get at a time (check-matrix's lanes): dpkg's own lock
	# fails the second instead of making it wait.
	mkdir -p "$CLONESTAT_CACHE" && exec {lock}> "$CLONESTAT_CACHE/apt.lock" &&
		flock "$lock" || die "cannot lock $CLONESTAT_CACHE/apt.lock"
	note "installing ${missing[*]}"
	if [ -z "$apt_updated" ]; then
		apt-get update -q >&2 || die "apt-get update failed"
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
	exec {lock}>&-
}

# is_version STRING: a version as VERSION, dkms.conf and the packages
# write it (scripts/check-version, scripts/set-version).
is_version() {
	[[ $1 =~ ^[0-9][0-9A-Za-z.+~]*$ ]]
}

# default_abi: the ABI (e.g. 6.1.0-56-amd64) of the headers that the
# linux-headers-amd64 meta-package pulls in, installing it when missing.
default_abi() {
	local dep
	need_pkgs linux-headers-amd64
	dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
		grep -o 'linux-headers-[0-9][^ ,]*-amd64' | head -n1)
	[ -n "$dep" ] || die "cannot tell which headers linux-headers-amd64 depends on"
	echo "${dep#linux-headers-}"
}

# kernel_kdir ABI: the module build tree of an installed headers package.
kernel_kdir() {
	local d=/usr/src/linux-headers-$1
	[ -f "$d/Makefile" ] || need_pkgs "linux-headers-$1"
	echo "$d"
}

# fetch_kernel ABI: download and unpack Debian's unsigned image for ABI into
# the cache once; print the directory it was unpacked into.
fetch_kernel() {
	local abi=$1 dir=$CLONESTAT_CACHE/kernels/$1 dl=$CLONESTAT_CACHE/dl deb
	if [ ! -f "$dir/.done" ]; then
		mkdir -p "$dl"
		deb=$(ls "$dl"/linux-image-"$abi"-unsigned_*.deb 2>/dev/null | head -n1)
		if [ -z "$deb" ]; then
			note "downloading linux-image-$abi-unsigned"
			(cd "$dl" && flock "$CLONESTAT_CACHE/apt.lock" \
				apt-get download -q "linux-image-$abi-unsigned" >&2) ||
				die "cannot download linux-image-$abi-unsigned"
			deb=$(ls "$dl"/linux-image-"$abi"-unsigned_*.deb | head -n1)
		fi
		rm -rf "$dir" && mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir" || die "cannot unpack $deb"
		touch "$dir/.done"
	fi
	echo "$dir"
}

# kernel_image DIR ABI: the vmlinuz inside an unpacked image package.
kernel_image() {
	local f
	for f in "$1/boot/vmlinuz-$2" "$1/usr/lib/modules/$2/vmlinuz" \
		 "$1/lib/modules/$2/vmlinuz"; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	die "no kernel image for $2 under $1"
}

# kernel_moddir DIR ABI: the lib/modules/ABI directory inside DIR.
kernel_moddir() {
	local d
	for d in "$1/lib/modules/$2" "$1/usr/lib/modules/$2"; do
		[ -d "$d/kernel" ] && { echo "$d"; return 0; }
	done
	die "no modules for $2 under $1"
}

# linux_source: unpack from linux-source-6.1 the few files the checks use
# (the kselftest headers and checkpatch); print the directory.
linux_source() {
	local dir=$CLONESTAT_CACHE/linux-source-6.1 tar=/usr/src/linux-source-6.1.tar.xz
	if [ ! -f "$dir/.done" ]; then
		[ -f "$tar" ] || need_pkgs linux-source-6.1
		rm -rf "$dir" && mkdir -p "$dir"
		tar -xJf "$tar" -C "$dir" --strip-components=1 \
			linux-source-6.1/tools/testing/selftests/kselftest.h \
			linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
			linux-source-6.1/scripts/checkpatch.pl \
			linux-source-6.1/scripts/spelling.txt \
			linux-source-6.1/scripts/const_structs.checkpatch ||
			die "cannot unpack $tar"
		touch "$dir/.done"
	fi
	echo "$dir"
}

# build_tree_copy DEST: the module's sources, as Kbuild wants them, in DEST.
build_tree_copy() {
	local top
	top=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
	mkdir -p "$1/module/features"
	cp -p "$top/Kbuild" "$top/VERSION" "$1/"
	cp -p "$top"/module/Kbuild "$top"/module/*.[ch] "$top"/module/*.awk "$1/module/"
	cp -p "$top"/module/features/*.c "$1/module/features/"
}

# build_module KDIR OUT [MAKE-ARGS...]: build the module for the kernel
# tree KDIR in OUT (a copy of the sources, one per kernel, so that builds
# for several kernels do not share objects).
build_module() {
	local kdir=$1 out=$2
	shift 2
	build_tree_copy "$out"
	make -C "$kdir" M="$out" "$@" modules
}

# build_selftests OUT: the selftest programs, into OUT.
build_selftests() {
	local top
	top=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
	make -C "$top/selftests" OUTPUT="$1" \
		KSFT_DIR="$(linux_source)/tools/testing/selftests" all
}
