# SPDX-License-Identifier: GPL-2.0
# The kernels clonestat is tested on, and how to get each one's image and
# build the module for it.  Sourced after lib.sh, never run.
#
#   name    Debian release   what
#   5.10    bullseye         stock amd64, built in a bullseye chroot (gcc-10)
#   6.1     bookworm         stock amd64, built on this machine
#   6.1-rt  bookworm         PREEMPT_RT (-rt-amd64), built on this machine
#   6.12    trixie           stock amd64, built in a trixie chroot (gcc-14)
#   7.2     sid              stock amd64, built in a sid chroot
#   debug   ../shared/kernels  6.1 with KASAN, lockdep, kmemleak, UBSAN...
#
# A release's headers call the compiler that built its kernel, so each
# release other than this machine's own builds in a debootstrap chroot of
# that release, cached under $CLONESTAT_CACHE/chroots.

MATRIX_KERNELS="5.10 6.1 6.1-rt 6.12 7.2 debug"
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What a chroot needs besides the headers: W=1 runs kernel-doc (perl),
# module BTF wants pahole (dwarves).
CHROOT_PKGS="make libc6-dev dwarves perl ca-certificates"

kernel_suite() {
	case $1 in
	5.10) echo bullseye ;;
	6.1|6.1-rt) echo bookworm ;;
	6.12) echo trixie ;;
	7.2) echo sid ;;
	*) return 1 ;;
	esac
}

kernel_meta() {
	case $1 in
	*-rt) echo linux-headers-rt-amd64 ;;
	*) echo linux-headers-amd64 ;;
	esac
}

host_suite() {
	. /etc/os-release && echo "$VERSION_CODENAME"
}

# meta_abi ROOT META: the ABI that headers meta-package META depends on,
# as installed in ROOT ("" for this machine).
meta_abi() {
	local dep
	dep=$(dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${Depends}' "$2" |
		grep -oE 'linux-headers-[0-9][^ ,]*' | head -n1)
	[ -n "$dep" ] || die "$2 does not name a headers package"
	echo "${dep#linux-headers-}"
}

# in_chroot ROOT CMD...: run CMD in ROOT with a clean environment and
# /proc mounted (7.2's objtool reads it) for the command's duration.
in_chroot() {
	local root=$1 rc mounted=
	shift
	if ! mountpoint -q "$root/proc"; then
		mount -t proc proc "$root/proc" || die "cannot mount proc in $root"
		mounted=1
	fi
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	rc=$?
	[ -n "$mounted" ] && umount "$root/proc"
	return $rc
}

# ensure_chroot SUITE: a minimal chroot of SUITE with build tools; print it.
ensure_chroot() {
	local suite=$1 root=$CLONESTAT_CACHE/chroots/$1
	if [ ! -f "$root/.done" ]; then
		need_pkgs debootstrap
		note "creating a $suite chroot in $root"
		rm -rf "$root.tmp" "$root"
		mkdir -p "${root%/*}"
		debootstrap --variant=minbase \
			--include="$(echo $CHROOT_PKGS | tr ' ' ,)" \
			"$suite" "$root.tmp" "$DEBIAN_MIRROR" > "$root.log" 2>&1 ||
			{ tail -n 20 "$root.log" >&2; die "debootstrap $suite failed"; }
		if [ "$suite" != sid ]; then
			echo "deb ${DEBIAN_MIRROR%/debian}/debian-security $suite-security main" \
				>> "$root.tmp/etc/apt/sources.list"
		fi
		mv "$root.tmp" "$root"
		touch "$root/.done"
	fi
	cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
	# Mirrors may serve a frozen snapshot whose Release file has expired.
	echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99clonestat"
	echo "$root"
}

# chroot_headers ROOT META: install META (and so its headers, compiler and
# kbuild) and CHROOT_PKGS in ROOT, once; print the ABI.
chroot_headers() {
	local root=$1 meta=$2 p missing=
	for p in $meta $CHROOT_PKGS; do
		dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' "$p" \
			2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		note "installing$missing in $root"
		# shellcheck disable=SC2086
		in_chroot "$root" apt-get update -q >&2 &&
		in_chroot "$root" apt-get install -y -q --no-install-recommends \
			$missing >&2 || die "cannot install$missing in $root"
	fi
	meta_abi "$root" "$meta"
}

# fetch_kernel_from ROOT ABI: download ABI's image with ROOT's apt (a
# chroot of the kernel's release) and unpack it into the cache.
fetch_kernel_from() {
	local root=$1 abi=$2 dir=$CLONESTAT_CACHE/kernels/$2 d=/var/tmp/clonestat-dl pkgs deb
	[ -f "$dir/.done" ] && { echo "$dir"; return 0; }
	if in_chroot "$root" apt-cache show "linux-image-$abi-unsigned" > /dev/null 2>&1; then
		pkgs="linux-image-$abi-unsigned"
	else
		# sid: the image and the modules come in two packages.
		pkgs="linux-binary-$abi linux-modules-$abi"
	fi
	note "downloading $pkgs"
	mkdir -p "$root$d"
	# shellcheck disable=SC2086
	in_chroot "$root" sh -c "cd $d && apt-get download -q $pkgs" >&2 ||
		die "cannot download $pkgs"
	rm -rf "$dir" && mkdir -p "$dir"
	for deb in "$root$d"/*.deb; do
		dpkg-deb -x "$deb" "$dir" || die "cannot unpack $deb"
	done
	rm -rf "${root:?}$d"
	touch "$dir/.done"
	echo "$dir"
}

# prepare_kernel NAME OUT: get NAME's image and headers and build the
# module (W=1, -Werror) into OUT.  Sets K_ABI and K_IMAGE (the unpacked
# image package), K_KDIR (the headers tree, as seen where it builds) and
# K_ROOT (the chroot it builds in; empty: this machine).
# Returns non-zero, with the build's output on stdout, when the build
# fails; dies when the kernel cannot be had at all.
prepare_kernel() {
	local name=$1 out=$2 suite meta shared
	meta=$(kernel_meta "$name")
	K_ROOT=
	if [ "$name" = debug ]; then
		shared=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")/shared/kernels
		prepare_debug_kernel "$shared" || return 2
	else
		suite=$(kernel_suite "$name") || die "unknown kernel $name (known: $MATRIX_KERNELS)"
		if [ "$suite" = "$(host_suite)" ]; then
			need_pkgs "$meta"
			K_ABI=$(meta_abi "" "$meta")
			K_KDIR=$(kernel_kdir "$K_ABI")
			K_IMAGE=$(fetch_kernel "$K_ABI")
		else
			K_ROOT=$(ensure_chroot "$suite") || return 2
			K_ABI=$(chroot_headers "$K_ROOT" "$meta") || return 2
			K_KDIR=/usr/src/linux-headers-$K_ABI
			K_IMAGE=$(fetch_kernel_from "$K_ROOT" "$K_ABI") || return 2
		fi
	fi
	kbuild "$out" module/clonestat.ko build_tree_copy
}

# kbuild DIR KO FILL...: run FILL... with a directory appended to fill it
# with a Kbuild tree, and build that for the kernel prepare_kernel
# prepared (W=1, -Werror): in DIR on this machine; for a release built in
# its chroot, in a directory under the chroot, KO (a path in the tree)
# then copied to DIR.
kbuild() {
	local dir=$1 ko=$2 copy
	shift 2
	if [ -z "$K_ROOT" ]; then
		"$@" "$dir" && make -C "$K_KDIR" M="$dir" W=1 KCFLAGS=-Werror modules
		return
	fi
	copy=/build-$(basename "$dir")
	rm -rf "${K_ROOT:?}$copy" && mkdir -p "$K_ROOT$copy" && "$@" "$K_ROOT$copy" &&
		in_chroot "$K_ROOT" make -C "$K_KDIR" M="$copy" W=1 KCFLAGS=-Werror modules &&
		mkdir -p "$(dirname "$dir/$ko")" && cp "$K_ROOT$copy/$ko" "$dir/$ko"
}

# prepare_debug_kernel DIR: unpack the debug kernel's packages from DIR.
prepare_debug_kernel() {
	local dir=$1 img hdr base
	img=$(ls "$dir"/linux-image-*.deb 2>/dev/null | head -n1)
	hdr=$(ls "$dir"/linux-headers-*.deb 2>/dev/null | head -n1)
	[ -n "$img" ] && [ -n "$hdr" ] || die "no debug kernel packages in $dir"
	K_ABI=$(basename "$img" | sed -E 's/^linux-image-([^_]+)_.*/\1/')
	base=$CLONESTAT_CACHE/kernels/$K_ABI
	if [ ! -f "$base/.done" ] || [ "$img" -nt "$base/.done" ]; then
		rm -rf "$base" && mkdir -p "$base"
		dpkg-deb -x "$img" "$base" && dpkg-deb -x "$hdr" "$base" ||
			die "cannot unpack the debug kernel"
		touch "$base/.done"
	fi
	K_IMAGE=$base
	K_KDIR=$base/usr/src/linux-headers-$K_ABI
}

# build_extra_module SRC OUT: build the out-of-tree module in SRC (a
# Kbuild and its sources, the module named after SRC) for the kernel
# prepare_kernel prepared, into OUT.
build_extra_module() {
	local src=$1 out=$2
	rm -rf "$out" && mkdir -p "$out" && kbuild "$out" "$(basename "$src").ko" cp -pr "$src"/.
}
