# oomwatch — see README.md. `make` builds build/oomwatch; `make test` runs every
# tier this machine can run; `make run` installs, builds and starts the agent.
V ?= 0
# Parallel by default: every core, unless the caller chose -j itself.
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc)
endif
Q := $(if $(filter 1,$(V)),,@)
.DELETE_ON_ERROR:

ARCH_RAW := $(shell uname -m)
HOST_ARCH := $(if $(filter x86_64,$(ARCH_RAW)),x86,$(if $(filter aarch64,$(ARCH_RAW)),arm64,))
ifeq ($(HOST_ARCH),)
$(error unsupported architecture $(ARCH_RAW): add vmlinux/<arch>/vmlinux.h and a mapping here)
endif
# `make ARCH=arm64` on x86-64 cross-builds build-arm64/oomwatch (static,
# aarch64) with Debian's aarch64-linux-gnu toolchain against a sysroot of
# Debian's arm64 -dev packages, unpacked into build-arm64/sysroot by
# tools/install-cross-deps.sh (`make ARCH=arm64 deps` installs the
# toolchain; docs/arm64.md). Only the command line selects it: an ARCH in
# the environment (kernel builds export one) is ignored, as before.
ifeq ($(origin ARCH),command line)
ifeq ($(filter $(ARCH),x86 arm64),)
$(error ARCH=$(ARCH): known are x86 and arm64)
endif
else
ARCH := $(HOST_ARCH)
endif
ifeq ($(ARCH),$(HOST_ARCH))
BUILD ?= build
else
CROSS := 1
BUILD ?= build-$(ARCH)
endif

CXX ?= g++
CLANG ?= clang
BPFTOOL ?= bpftool
# -g1: line tables for backtraces and perf, without full debug info (which
# made the binary 119 MB and the build slower). `make CXXFLAGS="-O0 -g"` to debug.
CXXFLAGS ?= -O2 -g1
# fmt and spdlog are compiled once (user/third_party/), not header-only in
# every translation unit: Debian ships them as shared libraries only, and the
# binary is static.
CXXFLAGS += -std=c++20 -Wall -Wextra -Wno-missing-field-initializers -MMD -MP \
	-Iuser -Ibpf -Itests/common -I$(BUILD) -DSPDLOG_COMPILED_LIB
# Everything static: the binary must run on nodes without libbpf/libelf installed
# and inside the VM tier's busybox initramfs.
LDFLAGS += -static -pthread
ifeq ($(CROSS),1)
ifeq ($(SAN),1)
$(error SAN=1 is native only (ARCH=$(ARCH)))
endif
ifneq ($(ARCH_RAW),x86_64)
$(error ARCH=$(ARCH) is cross-built on x86-64 only (this is $(ARCH_RAW)))
endif
CROSS_COMPILE ?= aarch64-linux-gnu-
SYSROOT ?= $(BUILD)/sysroot
ifeq ($(origin CXX),default)
CXX := $(CROSS_COMPILE)g++
endif
ifeq ($(origin AR),default)
AR := $(CROSS_COMPILE)ar
endif
# -isystem, as /usr/include is natively: the sysroot's headers come before
# the toolchain's (its glibc and libstdc++) and the host's /usr/include,
# which the Debian cross compiler searches last.
CXXFLAGS += -isystem $(SYSROOT)/usr/include/aarch64-linux-gnu -isystem $(SYSROOT)/usr/include
LDFLAGS += -L$(SYSROOT)/usr/lib/aarch64-linux-gnu
# Nothing built here runs here: tiers, benches, `run` and `install` (help2man
# runs the binary) are for the target machine, or the arm64 VM (docs/arm64.md).
CROSS_NO_GOALS := test check test-unit test-vm test-arm64 test-systemd run bench soak install check-unit fuzz-build san-tests
ifneq ($(filter $(CROSS_NO_GOALS),$(MAKECMDGOALS)),)
$(error ARCH=$(ARCH) builds on this machine but does not run here: $(filter $(CROSS_NO_GOALS),$(MAKECMDGOALS)) is not available)
endif
endif
# The tests' own helper programs (owalloc) are never instrumented.
PLAIN_CXX := $(CXX)
# SAN=1 (with its own BUILD, e.g. build-san): AddressSanitizer + UBSan, for the
# `san` test tier, built with clang++ at -O0: it was the longest step of
# `make test`. Per object (cmd_recommend.cpp, CPU seconds): g++ -O1 15,
# clang++ -O1 8.2, clang++ -O0 3.7; the san tiers' own CPU is small (unit
# 2.5 s, integration 17 s at -O1), they mostly wait on the kernel.
# Linked dynamically (ASan cannot link -static), with lld.
SAN_CXX ?= clang++
ifeq ($(SAN),1)
CXX := $(SAN_CXX)
CXXFLAGS := -O0 -gline-tables-only $(filter-out -O2 -g1,$(CXXFLAGS)) -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS := -pthread -fsanitize=address,undefined -fuse-ld=lld
endif
# libevent (evhttp) serves /metrics: Debian ships it as .a archives with no
# TLS dependency (libmicrohttpd's archive needs gnutls, which is shared-only).
LDLIBS := -lbpf -lelf -lzstd -lz -lsqlite3 -levent_openssl -levent_extra -levent_pthreads -levent_core -ldl
# ncurses (wide) for `oomwatch top`: Debian ships the .a archives; terminfo is read at run time.
LDLIBS += -lncursesw -ltinfo
# yaml-cpp (Debian ships libyaml-cpp.a): recommend --overrides in YAML, and
# the /metrics web config file.
LDLIBS += -lyaml-cpp
# /metrics over TLS with basic auth (run --web-config-file): libevent's
# bufferevent_openssl on Debian's static OpenSSL (libssl.a, libcrypto.a;
# OpenSSL's DSO code needs -ldl, already above), and libxcrypt's libcrypt.a
# for bcrypt. OpenSSL never reads openssl.cnf here (exporter/tls.hpp).
LDLIBS += -lssl -lcrypto -lcrypt -ldl
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf -Wall

LIB_SRCS := $(filter-out user/cli/main.cpp,$(shell find user -name '*.cpp' | sort))
LIB_OBJS := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o)
# UNITY=1: each user/<dir> is compiled as one translation unit
# ($(BUILD)/unity/<dir>.cpp #includes the directory's sources), so the
# heavy headers (CLI11, nlohmann, spdlog, fmt) are parsed and their templates
# instantiated once per directory, not once per file: the library's CPU time
# falls about five-fold (g++ -O2: 24 min to under 5). Not for the native
# build, which is what developers rebuild file by file and what the tiers
# test file by file; the default for the cross build (ARCH=arm64) and for
# SAN=1. Two sources of one directory therefore must not define the same
# name in an anonymous namespace.
UNITY ?= $(if $(or $(CROSS),$(filter 1,$(SAN))),1,0)
ifeq ($(UNITY),1)
LIB_DIRS := $(sort $(patsubst user/%/,%,$(dir $(LIB_SRCS))))
LIB_OBJS := $(LIB_DIRS:%=$(BUILD)/obj/unity/%.o)
endif
UNIT_SRCS := $(shell find tests/unit -name '*.cpp' | sort)
BPFT_SRCS := $(shell find tests/bpf -name '*.cpp' | sort)
INTEG_SRCS := $(shell find tests/integration -name '*.cpp' | sort)
TESTLIB_SRCS := $(shell find tests/common -name '*.cpp' | sort)
TEST_BINS := $(BUILD)/tests/unit $(BUILD)/tests/bpf $(BUILD)/tests/integration $(BUILD)/tests/owalloc
BENCH_SRCS := $(shell find tests/bench -name '*.cpp' | sort)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.cpp=$(BUILD)/bench/%)

.PHONY: all deps run test test-unit test-root test-vm bench soak clean tests san-tests check guest-bins test-arm64 test-systemd
all: $(BUILD)/oomwatch

# One object and skeleton per bpf/X.bpf.c: X.skel.h, skeleton name X_bpf
# (oomwatch: the agent's; trace: `oomwatch trace`'s, never loaded by the agent).
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(wildcard bpf/*.bpf.c))
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux/$(ARCH)/vmlinux.h
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.raw
	$(Q)$(BPFTOOL) gen object $@ $@.raw && rm -f $@.raw

.PRECIOUS: $(BUILD)/%.bpf.o
$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# The tests' own code runs no hot path (what they test is liboomwatch.a,
# built -O2): -O0 compiles a Catch2 test file in 60 % of the time.
# Benches (tests/bench) keep -O2.
$(foreach d,unit integration bpf common,$(BUILD)/obj/tests/$(d)/%.o): CXXFLAGS += -O0
$(BUILD)/obj/%.o: %.cpp | $(BPF_SKELS) $(if $(CROSS),$(SYSROOT)/.complete)
	@mkdir -p $(@D)
	$(if $(filter 1,$(V)),,@echo "  CXX $<")
	$(Q)$(CXX) $(CXXFLAGS) -c $< -o $@

# A directory's unity source lists its .cpp files; rewritten only when the
# list changes (the sources themselves are dependencies through -MMD).
# Static pattern rules: only the directories' own units match (a general
# %.cpp rule would let make chain its built-in rules from the included *.d
# files into units such as "cli.d.cpp").
ifeq ($(UNITY),1)
$(LIB_DIRS:%=$(BUILD)/unity/%.cpp): $(BUILD)/unity/%.cpp: FORCE
	@mkdir -p $(@D)
	@printf '#include "%s"\n' $(patsubst user/%,%,$(filter user/$*/%,$(LIB_SRCS))) > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(LIB_DIRS:%=$(BUILD)/obj/unity/%.o): $(BUILD)/obj/unity/%.o: $(BUILD)/unity/%.cpp | $(BPF_SKELS) $(if $(CROSS),$(SYSROOT)/.complete)
	@mkdir -p $(@D)
	$(if $(filter 1,$(V)),,@echo "  CXX user/$*/*.cpp (unity)")
	$(Q)$(CXX) $(CXXFLAGS) -c $< -o $@
$(BUILD)/obj/unity/util.o: $(BUILD)/version.h
$(BUILD)/obj/unity/view.o: $(BUILD)/gen/dygraph_js.inc $(BUILD)/gen/dygraph_css.inc
endif

# Version from VERSION, commit from git ("unknown" without one), baked into
# $(BUILD)/version.h, rewritten only when either changes.
OOMWATCH_VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
OOMWATCH_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
$(BUILD)/version.h: FORCE
	@mkdir -p $(@D)
	@printf '#define OOMWATCH_VERSION "%s"\n#define OOMWATCH_COMMIT "%s"\n' '$(OOMWATCH_VERSION)' '$(OOMWATCH_COMMIT)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/obj/user/util/version.o: $(BUILD)/version.h
.PHONY: FORCE
FORCE:

# `report --html` embeds dygraphs (Debian libjs-dygraphs): each installed file
# wrapped in a raw string literal, compiled into view/report_assets.o. The
# build stops if the delimiter ever occurs in the file.
DYGRAPHS_DIR ?= /usr/share/javascript/dygraphs
$(BUILD)/gen/dygraph_js.inc: $(DYGRAPHS_DIR)/dygraph.min.js
$(BUILD)/gen/dygraph_css.inc: $(DYGRAPHS_DIR)/dygraph.min.css
$(BUILD)/gen/dygraph_js.inc $(BUILD)/gen/dygraph_css.inc:
	@mkdir -p $(@D)
	$(Q)! grep -q ')OWASSET"' $< || { echo "$<: holds the raw-string delimiter" >&2; exit 1; }
	$(Q){ printf 'R"OWASSET('; cat $<; printf ')OWASSET"\n'; } > $@
$(BUILD)/obj/user/view/report_assets.o: $(BUILD)/gen/dygraph_js.inc $(BUILD)/gen/dygraph_css.inc

$(BUILD)/liboomwatch.a: $(LIB_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/oomwatch: $(BUILD)/obj/user/cli/main.o $(BUILD)/liboomwatch.a
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)
	@echo "  LD  $@"

# Catch2's main is compiled once; each tier is one binary.
$(BUILD)/tests/unit: $(UNIT_SRCS:%.cpp=$(BUILD)/obj/%.o) $(TESTLIB_SRCS:%.cpp=$(BUILD)/obj/%.o) $(BUILD)/liboomwatch.a
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/bpf: $(BPFT_SRCS:%.cpp=$(BUILD)/obj/%.o) $(TESTLIB_SRCS:%.cpp=$(BUILD)/obj/%.o) $(BUILD)/liboomwatch.a
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/integration: $(INTEG_SRCS:%.cpp=$(BUILD)/obj/%.o) $(TESTLIB_SRCS:%.cpp=$(BUILD)/obj/%.o) $(BUILD)/liboomwatch.a
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The tests' workloads exec owalloc: never instrumented (its own flags, even
# with SAN=1), so a cgroup is charged only the memory a test asks for; static
# for the VM tier's guests.
$(BUILD)/tests/owalloc: tests/alloc/owalloc.cpp
	@mkdir -p $(@D)
	$(Q)$(PLAIN_CXX) -O2 -Wall -Wextra -static -o $@ $<

tests: all $(TEST_BINS)
# What a VM guest runs (tools/vm/test-vm.sh): the binary, the bpf tier's
# tests, the workloads' allocator and the Go experiment, all static. `make
# ARCH=arm64 guest-bins` is the arm64 tier's build (tests/run.sh).
GOARCH_x86 := amd64
GOARCH_arm64 := arm64
guest-bins: all $(BUILD)/tests/bpf $(BUILD)/tests/owalloc
	$(Q)GOARCH=$(GOARCH_$(ARCH)) tools/go/build.sh $(BUILD) >/dev/null
# What the san tiers run (the bpf tier runs natively only).
san-tests: all $(BUILD)/tests/unit $(BUILD)/tests/integration $(BUILD)/tests/owalloc

# Each tests/bench/X.cpp is a standalone program.
$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(BUILD)/liboomwatch.a
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	$(Q)tools/install-deps.sh
ifeq ($(CROSS),1)
	$(Q)tools/install-cross-deps.sh $(ARCH) $(SYSROOT)

# The sysroot alone (no root needed): the toolchain must be installed already.
$(SYSROOT)/.complete: tools/install-cross-deps.sh
	$(Q)CROSS_DEPS_NO_INSTALL=1 tools/install-cross-deps.sh $(ARCH) $(SYSROOT)
	$(Q)touch $@
endif

# Test tiers: unit always; bpf and integration as root; vm where qemu runs.
# tests/run.sh prints the final "N passed, N failed, N skipped" line CI reads;
# it builds the sanitizer and fuzz targets itself (RUN_BUILDS=1), beside the
# first tiers, which mostly wait on the kernel.
SAN_BUILD ?= $(BUILD)-san
# On x86-64 as root, `make test` also installs the arm64 cross toolchain and
# qemu-system-aarch64 for the arm64 tier (without them that tier is skipped,
# with the reason).
test: deps
	$(Q)if [ "$$(uname -m)" = x86_64 ] && [ "$$(id -u)" = 0 ]; then tools/install-cross-deps.sh arm64; fi
	$(Q)t0=$$(date +%s) && $(MAKE) --no-print-directory tests && tools/go/build.sh $(BUILD) >/dev/null && \
	BUILD=$(BUILD) SAN_BUILD=$(SAN_BUILD) RUN_BUILDS=1 NATIVE_BUILD_S=$$(($$(date +%s) - t0)) tests/run.sh

# The fast loop while changing code: an incremental build, then the unit and
# bpf tiers and the integration cases of the areas touched since HEAD (or
# AREAS="recommend trace"; tests/check.sh maps files to test files).
check: tests
	$(Q)tools/go/build.sh $(BUILD) >/dev/null
	$(Q)BUILD=$(BUILD) tests/check.sh $(AREAS)

test-unit: tests
	$(Q)BUILD=$(BUILD) TIERS=unit tests/run.sh

test-vm: tests
	$(Q)tools/go/build.sh $(BUILD) >/dev/null
	$(Q)BUILD=$(BUILD) TIERS=vm tests/run.sh

# The systemd guest alone: the installed unit under systemd as PID 1 (Debian
# root filesystem from mmdebstrap, cached in BUILD/vm/cache).
test-systemd: tests
	$(Q)BUILD=$(BUILD) TIERS=systemd tests/run.sh

# The arm64 tier alone: cross-builds build-arm64 (incrementally) and boots it.
test-arm64:
	$(Q)BUILD=$(BUILD) TIERS=arm64 tests/run.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/oomwatch run $(ARGS)

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) tests/bench.sh

# The soak (docs/testing.md): the enforcing agent under churn for
# SOAK_DURATION (1h), a row of its RSS, fds, threads, database and warnings
# every SOAK_SAMPLE (1m); fails on growth or an unexplained warning. Root.
SOAK_DURATION ?= 1h
SOAK_SAMPLE ?= 1m
soak: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)OWSOAK_DURATION=$(SOAK_DURATION) OWSOAK_SAMPLE=$(SOAK_SAMPLE) $(BUILD)/tests/integration '[soak]'

clean:
	rm -rf $(BUILD) $(SAN_BUILD)

# Only the objects' trees: a VM guest's root filesystem under $(BUILD)/vm* has files named *.d too.
-include $(shell find $(BUILD)/obj $(BUILD)/fuzz -name '*.d' -type f 2>/dev/null)

# `make install` (PREFIX, DESTDIR) and `make check-unit`.
include tools/install.mk

# libFuzzer targets (clang): `make fuzz-build`, run by tests/fuzz/run.sh.
-include tests/fuzz/fuzz.mk
