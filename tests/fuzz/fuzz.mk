# libFuzzer targets for the parsers of untrusted input (included by the
# top-level Makefile). `make fuzz-build` builds $(BUILD)/fuzz/<target> with
# clang++ (-fsanitize=fuzzer,address,undefined); tests/fuzz/run.sh runs each
# one for a bounded time over a copy of tests/fuzz/corpus/<target>/.
#
# The fuzz build is separate from the g++ one: its own objects in
# $(BUILD)/fuzz/obj/ (instrumented with fuzzer-no-link,address,undefined),
# linked dynamically (ASan does not work with -static). Each target lists the
# exact sources it needs, so the build stays small.

FUZZ_CXX ?= clang++
# -O1: the usual libFuzzer trade-off (at -O0 the targets run 2-5x fewer inputs
# a second); line tables keep sanitizer reports symbolized. FUZZ_OPT_COLD is
# for FUZZ_COLD_SRCS, big sources of which the targets run little: -O0 about
# halves their compile time and costs next to no speed.
FUZZ_OPT ?= -O1 -gline-tables-only
FUZZ_OPT_COLD ?= -O0 -gline-tables-only
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
# Same defines (-DSPDLOG_COMPILED_LIB, ...) and include paths as the g++ build.
FUZZ_CPPFLAGS := -Iuser -Ibpf -I$(BUILD) $(filter -D%,$(CXXFLAGS))
FUZZ_OBJ_OPT = $(FUZZ_OPT)
FUZZ_CXXFLAGS = -std=c++20 $(FUZZ_OBJ_OPT) -Wall -Wextra -Wno-missing-field-initializers -MMD -MP \
	$(FUZZ_CPPFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -ffunction-sections -fdata-sections
# lld with --gc-sections links only what is reachable from the fuzz entry
# point: a source whose other functions need the BPF loader or the rest of the
# agent costs nothing more, and a source missing from a list below is still an
# "undefined symbol" error that names its caller.
FUZZ_LDFLAGS := -fsanitize=fuzzer $(FUZZ_SAN) -pthread -fuse-ld=lld -Wl,--gc-sections

# util/text.cpp: the UTF-8 helpers behind every JSON line and the config check.
FUZZ_TEXT := user/util/text.cpp

FUZZ_TARGETS := fuzz_cgroup_parse fuzz_proc fuzz_config fuzz_units fuzz_samplefile fuzz_events fuzz_metrics
FUZZ_TARGETS += fuzz_k8s
FUZZ_TARGETS += fuzz_fleet
FUZZ_TARGETS += fuzz_views
FUZZ_TARGETS += fuzz_webconfig

FUZZ_SRCS_fuzz_cgroup_parse := user/cgroup/parse.cpp user/util/fs.cpp
# parse_mem_total (gomemlimit/inputs.cpp), parse_meminfo (util/meminfo.cpp),
# fdinfo, and parse_gomemlimit_env (gomemlimit/env.cpp).
FUZZ_SRCS_fuzz_proc := user/gomemlimit/inputs.cpp user/util/meminfo.cpp user/bpfmem/fdinfo.cpp \
	user/gomemlimit/env.cpp user/util/fs.cpp user/util/units.cpp
FUZZ_SRCS_fuzz_config := user/config/config.cpp user/config/values.cpp user/util/units.cpp user/util/listen.cpp user/util/sched.cpp \
	$(FUZZ_TEXT)
FUZZ_SRCS_fuzz_units := user/util/units.cpp user/stats/time.cpp $(FUZZ_TEXT)
FUZZ_SRCS_fuzz_samplefile := user/store/samplefile.cpp user/store/samplefile_csv.cpp user/store/samplefile_jsonl.cpp \
	user/stats/csv.cpp user/stats/time.cpp user/util/fs.cpp $(FUZZ_TEXT)
FUZZ_SRCS_fuzz_events := user/bpf/events.cpp user/bpf/births.cpp user/bpf/ring.cpp user/bpfmem/events.cpp \
	user/bpfmem/table.cpp user/bpfmem/kernel.cpp user/stats/time.cpp $(FUZZ_TEXT)
FUZZ_LIBS_fuzz_events := -lbpf
FUZZ_SRCS_fuzz_k8s := user/k8s/identity.cpp user/k8s/pods.cpp user/recommend/quantity.cpp user/third_party/fmt_lib.cpp user/util/fs.cpp \
	$(FUZZ_TEXT)
# Prometheus answers, overrides, Knative Services, pod names (url_escape needs libevent).
FUZZ_SRCS_fuzz_fleet := user/fleet/prom_api.cpp user/fleet/prom_answer.cpp user/fleet/http_client.cpp user/fleet/overrides.cpp \
	user/fleet/yaml_json.cpp user/fleet/knative_services.cpp user/fleet/workload.cpp user/recommend/quantity.cpp user/third_party/fmt_lib.cpp \
	$(FUZZ_TEXT)
FUZZ_LIBS_fuzz_fleet := -levent_core -lyaml-cpp
# An audit-log line as top and report read it, and the event as they print it.
FUZZ_SRCS_fuzz_views := user/view/agent_inputs.cpp user/view/frame.cpp user/stats/time.cpp user/util/units.cpp \
	user/k8s/event_identity.cpp user/k8s/kubelet_logs.cpp \
	$(FUZZ_TEXT)
# The /metrics web config and the Authorization header (base64 from libcrypto).
FUZZ_SRCS_fuzz_webconfig := user/exporter/web_config.cpp user/exporter/basic_auth.cpp user/fleet/yaml_json.cpp \
	user/util/fs.cpp $(FUZZ_TEXT)
FUZZ_LIBS_fuzz_webconfig := -lyaml-cpp -lcrypt -lcrypto
# The exposition's escaping and rendering, and the --listen parser.
FUZZ_SRCS_fuzz_metrics := user/metrics/exposition.cpp user/util/listen.cpp user/third_party/fmt_lib.cpp $(FUZZ_TEXT)

# Compiled with FUZZ_OPT_COLD. Of these the targets run parse_gomemlimit_env
# (env.cpp), map_type_name / prog_type_name (table.cpp), parse_mem_total
# (inputs.cpp), parse_map_records (kernel.cpp) and the TOML value checks
# (values.cpp). They come last on the link line: the linker keeps the first
# copy of each inline function, which must be an -O1 one.
FUZZ_COLD_SRCS := user/gomemlimit/env.cpp user/bpfmem/table.cpp user/gomemlimit/inputs.cpp user/bpfmem/kernel.cpp \
	user/config/values.cpp

FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
FUZZ_ALL_SRCS := $(sort $(foreach t,$(FUZZ_TARGETS),tests/fuzz/$(t).cpp $(FUZZ_SRCS_$(t))))
fuzz_obj = $(patsubst %.cpp,$(BUILD)/fuzz/obj/%.o,$(1))

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

# Fail early, with the fix, when clang's libFuzzer runtime or lld is missing.
ifneq ($(filter fuzz-build $(BUILD)/fuzz/%,$(MAKECMDGOALS)),)
FUZZ_RT := $(shell $(FUZZ_CXX) -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-$(ARCH_RAW).a
ifeq ($(wildcard $(FUZZ_RT)),)
$(error $(FUZZ_CXX) has no libFuzzer runtime ($(FUZZ_RT)). HINT: apt-get install clang libclang-rt-dev)
endif
ifeq ($(shell command -v ld.lld 2>/dev/null),)
$(error the fuzz targets link with lld, which is not installed. HINT: apt-get install lld)
endif
endif

$(call fuzz_obj,$(FUZZ_COLD_SRCS)): FUZZ_OBJ_OPT = $(FUZZ_OPT_COLD)
$(BUILD)/fuzz/obj/%.o: %.cpp
	@mkdir -p $(@D)
	$(if $(filter 1,$(V)),,@echo "  FUZZ $<")
	$(Q)$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -c $< -o $@

# Only the sources that include the generated skeleton wait for it.
FUZZ_SKEL_SRCS := $(shell grep -l '"oomwatch.skel.h"' $(FUZZ_ALL_SRCS) 2>/dev/null)
$(call fuzz_obj,$(FUZZ_SKEL_SRCS)): | $(BUILD)/oomwatch.skel.h

define fuzz_link_rule
$(BUILD)/fuzz/$(1): $(call fuzz_obj,tests/fuzz/$(1).cpp $(filter-out $(FUZZ_COLD_SRCS),$(FUZZ_SRCS_$(1))) \
		$(filter $(FUZZ_COLD_SRCS),$(FUZZ_SRCS_$(1))))
	@mkdir -p $$(@D)
	$$(Q)$$(FUZZ_CXX) $$(FUZZ_LDFLAGS) -o $$@ $$^ $$(FUZZ_LIBS_$(1))
	@echo "  LD  $$@"
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_link_rule,$(t))))
