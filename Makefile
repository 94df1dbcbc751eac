# gcma: build the patched kernel, the test module, and run things in the VM.
#
#   make run          main job: build everything, boot the VM, benchmark GCMA vs CMA
#   make test         all tests: host suites, VM boot tests, series check, VM suites
#   make test SUITES=integrity,model   just those VM suites, in one boot
#   make test KERNEL=bzImage KDIR=dir  test a kernel built elsewhere (no build, no series check)
#   make soak         the VM suites that have a long form, at soak scale
#   make module       build the out-of-tree module against KDIR
#   make vm CMD='uname -a'   run a command inside the VM
#
# KDIR defaults to the project's cached kernel build; point it at any kernel
# build directory with GCMA to build the module against that instead. Module
# builds against the cache hold its lock (lib/kernel/lock.ts), as the kernel
# builds do, so two runs on one machine take turns.

GCMA_CACHE ?= /var/cache/gcma
export GCMA_CACHE
KDIR ?= $(GCMA_CACHE)/build/default
CLI := node dist/lib/cli.js
MODULE := kernel/module/gcma_test.ko
FIXTURES := test/fixtures/warn-module
UAPI_TEST := test/uapi/gcma_test_uapi
HEAP_TEST := test/uapi/dmabuf_heap_test
HEAP_BENCH := lib/bench/dma_heap_alloc
ROUNDTRIP_BENCH := lib/bench/ioctl_roundtrip
UAPI_HEADER := kernel/include/uapi/linux/gcma_test.h
FSCRYPT_TOOL := test/fscrypt/fscrypt_key
ADDON := build/Release/gcma.node

.PHONY: all setup kernel module addon fixtures docs test soak run vm checkpatch clean

all: module

setup:
	scripts/setup.sh

kernel: setup
	$(CLI) kernel build

LOCK := mkdir -p $(GCMA_CACHE) && flock $(GCMA_CACHE)/.lock

module:
	$(LOCK) $(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The Node addon; npm install builds it too (binding.gyp)
addon: $(ADDON)

$(ADDON): binding.gyp $(wildcard addon/*.cc addon/*.h) $(UAPI_HEADER)
	npm run --silent build:addon >/dev/null
	@test -f $@

# API docs (TypeDoc) in docs/api
docs:
	npx typedoc

fixtures: $(UAPI_TEST)
	$(LOCK) $(MAKE) -C $(KDIR) M=$(CURDIR)/$(FIXTURES) modules

# The device's C test program (run in the VM by test/vm/device.test.ts)
$(UAPI_TEST): test/uapi/gcma_test_uapi.c test/uapi/tap.h $(UAPI_HEADER)
	$(CC) -O2 -Wall -Wextra -Werror -I kernel/include/uapi -o $@ $<

# Any dma-buf heap, through linux/dma-heap.h (test/vm/dma-heaps.test.ts)
$(HEAP_TEST): test/uapi/dmabuf_heap_test.c test/uapi/tap.h
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

# The benchmark's C side of dma-buf heap latency (lib/bench/heaps.ts)
$(HEAP_BENCH): lib/bench/dma_heap_alloc.c lib/bench/bench.h
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

# The benchmark's C caller of the device (lib/bench/roundtrip.ts)
$(ROUNDTRIP_BENCH): lib/bench/ioctl_roundtrip.c lib/bench/bench.h $(UAPI_HEADER)
	$(CC) -O2 -Wall -Wextra -Werror -I kernel/include/uapi -o $@ $<

# The fscrypt ioctls the ext4 suite uses (test/vm/cleancache-ext4.test.ts)
$(FSCRYPT_TOOL): test/fscrypt/fscrypt_key.c
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

# test/run.ts builds the kernel it tests (the debug flavour) and its
# modules; GCMA_T0 lets it count the setup in its times.
test soak: export GCMA_T0 := $(shell date +%s%3N)
test: setup
	$(MAKE) --no-print-directory addon $(UAPI_TEST) $(HEAP_TEST) $(HEAP_BENCH) $(ROUNDTRIP_BENCH) $(FSCRYPT_TOOL)
	node dist/test/run.js $(if $(KERNEL),--kernel $(KERNEL) --kdir $(KDIR))

soak: setup
	$(MAKE) --no-print-directory addon $(UAPI_TEST) $(HEAP_TEST) $(HEAP_BENCH) $(ROUNDTRIP_BENCH) $(FSCRYPT_TOOL)
	node dist/test/run.js --soak $(if $(KERNEL),--kernel $(KERNEL) --kdir $(KDIR))

run: kernel
	$(MAKE) module addon $(HEAP_BENCH) $(ROUNDTRIP_BENCH)
	$(CLI) bench $(BENCH_ARGS)

vm: kernel
	$(MAKE) module
	$(CLI) vm -- $(CMD)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(FIXTURES) clean
	rm -rf dist build docs/api $(UAPI_TEST) $(HEAP_TEST) $(HEAP_BENCH) $(ROUNDTRIP_BENCH) $(FSCRYPT_TOOL)
