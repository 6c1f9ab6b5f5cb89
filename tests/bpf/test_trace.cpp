// Root: the trace object on this kernel. Both flavors (tp_btf, raw_tp) count
// a process's anon growth in a cgroup below the target (the kernel-side
// subtree walk), and none of a process outside it; the agent's object
// carries no trace program.
#include <bpf/libbpf.h>
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "helpers.hpp"
#include "oomwatch.skel.h"
#include "trace/bpf_tracer.hpp"
#include "ready_child.hpp"
#include "skip.hpp"

using namespace ow;

namespace {
constexpr uint64_t kMiB = 1ull << 20;

}  // namespace

TEST_CASE("the agent's BPF object has no trace program", "[bpf][trace]") {
  oomwatch_bpf* s = oomwatch_bpf__open();
  REQUIRE(s);
  bpf_program* p = nullptr;
  int n = 0;
  bpf_object__for_each_program(p, s->obj) {
    n++;
    CHECK(std::strncmp(bpf_program__name(p), "owt_", 4) != 0);
  }
  oomwatch_bpf__destroy(s);
  CHECK(n > 0);
}

TEST_CASE("trace programs count growth below the target and nothing outside it", "[bpf][trace]") {
  auto missing = trace::missing_tracepoints(trace::kStatTracepoints);
  REQUIRE(missing);
  if (!missing->empty()) {
    OWTEST_SKIP("no memcg stat tracepoints in this kernel (6.13+)");
  }
  auto h = owtest::hierarchy();
  auto target = owtest::make_cgroup(kUnlimited, "owtest-trace");
  auto inner = cg::ScopedCgroup::create(h, target.path(), "inner", kUnlimited);
  REQUIRE(inner);
  auto outside = owtest::make_cgroup(kUnlimited, "owtest-trace");
  auto id = h.id_of(target.path());
  REQUIRE(id);
  bool raw = GENERATE(false, true);
  INFO((raw ? "raw_tp" : "tp_btf"));
  auto t = trace::BpfTracer::open(*id, h.abs(target.path()), raw);
  INFO((t ? "" : t.error().message()));
  REQUIRE(t);
  CHECK((*t)->mode() == (raw ? "raw_tp" : "tp_btf"));
  owtest::ReadyChild in(h.abs(inner->path()) + "/cgroup.procs", [] { return owtest::grow_anon(16 * kMiB); });
  owtest::ReadyChild out(h.abs(outside.path()) + "/cgroup.procs", [] { return owtest::grow_anon(16 * kMiB); });
  REQUIRE(in.done());
  REQUIRE(out.done());
  auto tot = (*t)->read();
  REQUIRE(tot);
  CHECK((*t)->events() > 0);
  (*t)->detach();
  std::string all;
  for (const auto& [tgid, pu] : *tot) {
    std::string k;
    for (int i = 0; i < trace::kKinds; i++)
      k += std::string(" ") + trace::kind_name(i) + " +" + std::to_string(pu.kinds[i].charged) + "/-" +
           std::to_string(pu.kinds[i].uncharged);
    all += "tgid " + std::to_string(tgid) + " (" + pu.comm + ")" + k + "\n";
  }
  INFO(all << "in " << in.pid() << ", out " << out.pid());
  REQUIRE(tot->count(static_cast<uint32_t>(in.pid())));
  const auto& u = tot->at(static_cast<uint32_t>(in.pid()));
  auto anon = u.kinds[static_cast<int>(trace::Kind::Anon)].net();
  CHECK(anon >= static_cast<int64_t>(16 * kMiB * 0.9));
  CHECK(anon <= static_cast<int64_t>(16 * kMiB * 1.1));
  // Nothing of the outsider's own memory. (It may show slab or kernel bytes
  // of the target: a per-CPU stock of kernel-object charges is flushed by
  // whichever task next charges on that CPU.)
  if (auto it = tot->find(static_cast<uint32_t>(out.pid())); it != tot->end())
    for (trace::Kind k : {trace::Kind::Anon, trace::Kind::File, trace::Kind::Shmem})
      CHECK(it->second.kinds[static_cast<int>(k)].charged == 0);
}
