# SPDX-License-Identifier: GPL-2.0
#
# clonestat.  Two halves: Kbuild reads the first (the module directory);
# people and CI use the second.

ifneq ($(KERNELRELEASE),)

include $(src)/Kbuild

else

KDIR ?= /lib/modules/$(shell uname -r)/build
VERSION := $(shell cat VERSION)

# Where install-tools puts the tools, their manual pages and the
# exporter's systemd units (the Debian package: PREFIX=/usr
# UNITDIR=/lib/systemd/system).
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The module for the running kernel (or KDIR's), and the tools.
install: install-module install-tools

install-module: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(shell cat $(KDIR)/include/config/kernel.release)

# The manual pages: clonestat(5) is written from README.md's sections on
# the file; the two in section 8 get the version and the date of the
# newest debian/changelog entry.
MAN_DATE := $(shell LC_ALL=C date -u -d "$$(sed -n '/^ -- /{s/.*>  //p;q}' debian/changelog)" '+%B %Y')
MAN_PAGES := build/man/clonestat.5 build/man/clonestat.8 build/man/clonestat-exporter.8

man: $(MAN_PAGES)

build/man/clonestat.5: README.md tools/man/md2man.awk VERSION debian/changelog
	@mkdir -p build/man
	awk -v version='$(VERSION)' -v date='$(MAN_DATE)' -f tools/man/md2man.awk README.md > $@.tmp
	mv $@.tmp $@

build/man/%.8: tools/man/%.8 VERSION debian/changelog
	@mkdir -p build/man
	sed 's/@VERSION@/$(VERSION)/; s/@DATE@/$(MAN_DATE)/' $< > $@

install-tools: man
	install -D -m 0755 tools/clonestat $(DESTDIR)$(SBINDIR)/clonestat
	install -D -m 0755 tools/clonestat-exporter $(DESTDIR)$(SBINDIR)/clonestat-exporter
	install -D -m 0644 build/man/clonestat.8 $(DESTDIR)$(MANDIR)/man8/clonestat.8
	install -D -m 0644 build/man/clonestat-exporter.8 $(DESTDIR)$(MANDIR)/man8/clonestat-exporter.8
	install -D -m 0644 build/man/clonestat.5 $(DESTDIR)$(MANDIR)/man5/clonestat.5
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|' tools/systemd/clonestat-exporter.service.in \
		> $(DESTDIR)$(UNITDIR)/clonestat-exporter.service
	install -m 0644 tools/systemd/clonestat-exporter.timer $(DESTDIR)$(UNITDIR)/

# build/deb/: clonestat-dkms_VERSION_all.deb and clonestat_VERSION_all.deb,
# built by dpkg-buildpackage from a copy of the tree's files.
deb:
	scripts/make-deb

clean:
	rm -rf build
	rm -f module/*.o module/*.ko module/*.mod module/*.mod.c module/trace_syms.h \
	      module/.*.cmd module/modules.order .*.cmd modules.order \
	      Module.symvers
	$(MAKE) -C selftests clean KSFT_DIR=.

# Everything, on a fresh Debian 12 machine: builds, static checks, the
# selftests inside a QEMU guest running Debian's kernel.
check:
	scripts/check

# check on every kernel of scripts/kernels.sh: 5.10, 6.1, 6.1-rt, 6.12,
# 7.2 and the debug kernel in ../shared/kernels when it is there.
check-matrix:
	scripts/check-matrix

# What CI runs a slice of, whole: the reload storm with 200 cycles on
# 6.1, 6.12 and the debug kernel, and there every fault point of the
# load made to fail.
check-faults:
	for k in 6.1 6.12 debug; do \
		CLONESTAT_TEST_FAIL_NTH_STRIDE=1 CLONESTAT_TEST_FAIL_NTH_OFFSET=1 \
		CLONESTAT_TEST_STORM_CYCLES=200 CLONESTAT_TEST_STORM_CONTROL_CYCLES=300 \
		CLONESTAT_TEST_ONLY='allocation at load|control|cycles|unload while|after the storm|kmemleak|kernel log' \
		CLONESTAT_TEST_SKIP= \
		scripts/check --kernel $$k --no-static || exit 1; \
	done

# Each patch of selftests/mutants/ breaks one thing; the checks meant to
# catch it must fail.  Not in CI: a run of those checks per mutant.
check-mutants:
	scripts/check-mutants

# Overhead, under QEMU's instruction counting: what clonestat adds to
# each workload in instructions (the profile), its timing overhead
# against no tracing and against a bpftrace script, the cost of a read,
# memory, scaling: the tables of README.md, "Overhead".  BENCH_ARGS:
# --kernel 7.2, --rounds N, --no-scaling.
bench:
	scripts/bench/run $(BENCH_ARGS)

# The profile alone: deterministic, a few minutes.
profile:
	scripts/bench/run --profile-only $(BENCH_ARGS)

# The main job in a VM: build, boot, load, run a workload, show the file.
demo:
	scripts/demo

.PHONY: all modules install install-module install-tools man deb clean check check-matrix check-mutants demo bench profile

endif
