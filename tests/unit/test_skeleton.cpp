// The BPF object embedded in the skeleton opens (ELF + BTF parse, no load,
// no privileges) and has the programs and maps userspace expects.
#include <catch2/catch.hpp>

#include <bpf/libbpf.h>

#include "oomwatch.skel.h"

TEST_CASE("skeleton opens without loading", "[bpf-open]") {
  oomwatch_bpf* s = oomwatch_bpf__open();
  REQUIRE(s != nullptr);
  CHECK(s->progs.oom_mark_victim_btf != nullptr);
  CHECK(s->progs.oom_mark_victim_raw != nullptr);
  CHECK(std::string(bpf_program__section_name(s->progs.oom_mark_victim_btf)) == "tp_btf/mark_victim");
  CHECK(std::string(bpf_program__section_name(s->progs.oom_mark_victim_raw)) == "raw_tp/mark_victim");
  CHECK(bpf_map__type(s->maps.events) == BPF_MAP_TYPE_RINGBUF);
  CHECK(s->rodata->victim_arg_is_task == true);
  oomwatch_bpf__destroy(s);
}
