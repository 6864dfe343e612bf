# SPDX-License-Identifier: GPL-2.0
#
# clonestat.  Two halves: Kbuild reads the first (the module directory);
# people and CI use the second.

ifneq ($(KERNELRELEASE),)

include $(src)/Kbuild

else

KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(shell cat $(KDIR)/include/config/kernel.release)

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

.PHONY: all modules install clean check check-matrix check-mutants demo bench profile

endif
