// Root, this kernel: the cached CO-RE BTF (bpf/core_btf.hpp) is built once,
// used while it is this kernel's and intact, built again when it is corrupt
// or stale; a snapshots-only Loader on it (no kernel BTF parsed, the
// iterator's target from the cache) reads the same figures as one on the
// kernel's whole BTF.
#include <catch2/catch.hpp>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "bpf/core_btf.hpp"
#include "bpf/loader.hpp"
#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "oomwatch.skel.h"
#include "sampler/sampler.hpp"
#include "util/fs.hpp"

using namespace ow;

namespace {

std::string_view object_bytes() {
  size_t n = 0;
  const void* p = oomwatch_bpf__elf_bytes(&n);
  return {static_cast<const char*>(p), n};
}

bpf::CoreBtf cache_in(const std::string& dir) {
  auto c = bpf::core_btf_for(dir, object_bytes());
  if (!c) FAIL(c.error().message());
  return *c;
}

void rewrite(const std::string& path, const std::function<void(std::string&)>& edit) {
  auto t = read_text(path);
  REQUIRE(t);
  edit(*t);
  REQUIRE(write_text(path, *t));
}

std::unique_ptr<bpf::Loader> snapshot_loader(const cg::Hierarchy& h, const std::string& cache_dir) {
  bpf::LoaderOptions o;
  o.oom_events = false;
  o.snapshots = true;
  o.memcg_v1 = h.version() == cg::Version::V1;
  o.btf_cache_dir = cache_dir;
  auto l = bpf::Loader::open(o);
  if (!l) FAIL(l.error().message());
  REQUIRE((*l)->snapshots_loaded());
  return std::move(*l);
}

}  // namespace

TEST_CASE("CO-RE BTF cache: built once, then used; corrupt or stale, built again", "[bpf][core_btf]") {
  owtest::TmpTree d("owtest-corebtf");
  const std::string dir = d.path + "/state/btf";
  auto first = cache_in(dir);
  CHECK(first.built);
  CHECK(first.iter_cgroup_id > 0);
  CHECK(first.cgroup_type_id > 0);
  CHECK(first.memcg_type_id > 0);
  CHECK(first.memcg_type_id != first.cgroup_type_id);
  CHECK(first.path == dir + "/vmlinux-core.btf");
  // The snapshot program's kfunc, as libbpf's parse of the kernel BTF finds it (0: 6.1 has none).
  struct btf* vb = btf__load_vmlinux_btf();
  REQUIRE(vb != nullptr);
  const int cast_id = std::max(0, btf__find_by_name_kind(vb, "bpf_rdonly_cast", BTF_KIND_FUNC));
  btf__free(vb);
  CHECK(first.rdonly_cast_id == cast_id);
  auto again = cache_in(dir);
  CHECK_FALSE(again.built);
  CHECK(again.iter_cgroup_id == first.iter_cgroup_id);
  CHECK(again.rdonly_cast_id == cast_id);

  SECTION("a flipped byte in the BTF") {
    rewrite(first.path, [](std::string& s) { s[s.size() / 2] ^= 0x40; });
  }
  SECTION("an empty BTF") {
    rewrite(first.path, [](std::string& s) { s.clear(); });
  }
  SECTION("a meta file that is not one") {
    rewrite(dir + "/vmlinux-core.meta", [](std::string& s) { s = "key zz\n"; });
  }
  SECTION("another kernel's (or object's) key") {
    rewrite(dir + "/vmlinux-core.meta", [](std::string& s) { s[4] = s[4] == '0' ? '1' : '0'; });
  }
  SECTION("a place that does not hold the type the meta names there") {
    rewrite(dir + "/vmlinux-core.meta", [](std::string& s) {
      auto at = s.rfind(' ');
      s = s.substr(0, at + 1) + std::to_string(std::stoull(s.substr(at + 1)) + 4) + "\n";
    });
  }
  SECTION("a kfunc place that does not hold bpf_rdonly_cast (or a kfunc where the kernel has none)") {
    rewrite(dir + "/vmlinux-core.meta", [cast_id](std::string& s) {
      auto at = s.find("bpf_rdonly_cast ");
      REQUIRE(at != std::string::npos);
      auto end = s.find('\n', at);
      auto words = s.substr(at, end - at);
      auto off = std::stoull(words.substr(words.rfind(' ') + 1));
      s.replace(at, end - at,
                "bpf_rdonly_cast " + std::to_string(cast_id ? cast_id : 5) + " " + std::to_string(off + 4));
    });
  }
  SECTION("a dir others can write is refused, and nothing is read from it") {
    REQUIRE(::chmod(dir.c_str(), 0777) == 0);
    auto c = bpf::core_btf_for(dir, object_bytes());
    REQUIRE_FALSE(c);
    CHECK(c.error().message().find("writable by others") != std::string::npos);
    REQUIRE(::chmod(dir.c_str(), 0700) == 0);
    rewrite(first.path, [](std::string& s) { s[0] ^= 1; });
  }
  auto rebuilt = cache_in(dir);
  CHECK(rebuilt.built);
  CHECK(rebuilt.iter_cgroup_id == first.iter_cgroup_id);
  CHECK(rebuilt.rdonly_cast_id == cast_id);
  CHECK_FALSE(cache_in(dir).built);
}

TEST_CASE("CO-RE BTF cache: a loader on it reads what one on the kernel's BTF reads", "[bpf][core_btf][snapshot]") {
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(64ull << 20, "owtest-corebtf");
  REQUIRE(owtest::hold_24mib(h, cg.path()));  // ~24 MiB of anon memory, held by a real process
  owtest::TmpTree d("owtest-corebtf");
  auto cached = snapshot_loader(h, d.path + "/btf");
  REQUIRE(owtest::exists(d.path + "/btf/vmlinux-core.btf"));
  auto whole = snapshot_loader(h, "");
  auto sc = sampler::Sampler::open(h, cached.get(), {cg.path()});
  auto sw = sampler::Sampler::open(h, whole.get(), {cg.path()});
  REQUIRE(sc.ok());
  REQUIRE(sw.ok());
  CHECK(std::string((*sc)->source_name()) == "bpf-iter");
  // On the cache, not on a fallback to the kernel's BTF; with the plain-load
  // program where the kernel has its kfunc (its cast targets then come from
  // the cache's kernel ids, not from the cut-down BTF's own).
  CHECK(cached->core_btf_cached());
  CHECK_FALSE(whole->core_btf_cached());
  CHECK(std::string(bpf_program__name(cached->snap_prog())) == bpf_program__name(whole->snap_prog()));
  auto a = (*sc)->take();
  auto b = (*sw)->take();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->samples.size() == 1);
  REQUIRE(b->samples.size() == 1);
  const auto& x = a->samples[0];
  const auto& y = b->samples[0];
  CHECK(x.cgroup_id == *h.id_of(cg.path()));
  CHECK(x.cgroup_id == y.cgroup_id);
  CHECK(x.limit_bytes == 64ull << 20);
  CHECK(x.limit_bytes == y.limit_bytes);
  CHECK(x.usage_bytes > (20ull << 20));
  CHECK(x.usage_bytes == Approx(y.usage_bytes).epsilon(0.05));
  CHECK(x.peak_bytes == y.peak_bytes);
  CHECK(x.high_bytes == y.high_bytes);
  CHECK(x.failcnt == y.failcnt);
  CHECK(x.swap_bytes == y.swap_bytes);
  CHECK(x.ev_max == y.ev_max);
  CHECK(x.ev_oom_kill == y.ev_oom_kill);
  CHECK(x.inactive_file_bytes == y.inactive_file_bytes);
  // and the cache is used, not built, by the next loader
  auto c = bpf::core_btf_for(d.path + "/btf", object_bytes());
  REQUIRE(c);
  CHECK_FALSE(c->built);
}
