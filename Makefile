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
	rm -f module/*.o module/*.ko module/*.mod module/*.mod.c \
	      module/.*.cmd module/modules.order .*.cmd modules.order \
	      Module.symvers
	$(MAKE) -C selftests clean KSFT_DIR=.

# Everything, on a fresh Debian 12 machine: builds, static checks, the
# selftests inside a QEMU guest running Debian's kernel.
check:
	scripts/check

# The main job in a VM: build, boot, load, run a workload, show the file.
demo:
	scripts/demo

.PHONY: all modules install clean check demo

endif
