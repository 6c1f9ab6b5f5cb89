// Root: the iter/cgroup snapshot sees every memcg, also when the hierarchy is
// larger than one walk segment, and agrees with the cgroup's own files.
#include <catch2/catch.hpp>

#include <set>

#include "bpf/loader.hpp"
#include "helpers.hpp"
#include "sampler/sampler.hpp"
#include "util/fs.hpp"

using namespace ow;

namespace {
std::unique_ptr<bpf::Loader> snapshot_loader(const cg::Hierarchy& h, uint32_t cap) {
  bpf::LoaderOptions o;
  o.oom_events = false;
  o.snapshots = true;
  o.snap_cap = cap;
  o.memcg_v1 = h.version() == cg::Version::V1;
  auto l = bpf::Loader::open(o);
  if (!l) FAIL(l.error().message());
  return std::move(*l);
}
}  // namespace

TEST_CASE("1,000 empty cgroups are all in a snapshot read in segments", "[bpf][snapshot]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(ow::kUnlimited, "owtest-many");
  std::set<std::string> want;
  for (int i = 0; i < 1000; ++i) {
    std::string rel = cg::join_rel(parent.path(), "c" + std::to_string(i));
    REQUIRE(h.create(rel).ok());
    want.insert(rel);
  }
  auto l = snapshot_loader(h, 256);  // 1,000+ cgroups need at least 4 walks
  REQUIRE(l->snapshots_loaded());
  auto src = sampler::BpfSource::open(*l, h);
  REQUIRE(src.ok());
  auto s = sampler::Sampler::open(h, l.get(), {parent.path()});
  REQUIRE(s.ok());
  CHECK(std::string((*s)->source_name()) == "bpf-iter");
  auto snap = (*s)->take();
  REQUIRE(snap.ok());
  std::set<std::string> got;
  for (const auto& x : snap->samples) got.insert(x.cgroup);
  got.erase(parent.path());
  CHECK(got.size() == want.size());
  CHECK(got == want);
  auto raw = (*src)->read();
  REQUIRE(raw.ok());
  CHECK((*src)->walks_last_read() >= 4);
}

TEST_CASE("iterator figures agree with the cgroup's files", "[bpf][snapshot]") {
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(64ull << 20, "owtest-snap");
  // Hold ~24 MiB of anon memory in the cgroup with a real process: dd fills
  // its 24 MiB buffer in one read, then blocks writing it into a pipe that
  // `sleep` never reads. (Not a shell variable: busybox ash, in the VM tier,
  // reads $(...) 128 bytes at a time, >10 s for 24 MiB under TCG, and it
  // execs the last command of `sh -c`, which frees the variable.)
  auto pid = cg::spawn_in(h, cg.path(),
                          {"sh", "-c",
                           "dd if=/dev/zero bs=25165824 count=1 2>/dev/null | { head -c 1 >/dev/null; exec sleep 30; }"});
  REQUIRE(pid.ok());
  // Growth is over once `sleep` runs: head got dd's first bytes, which dd
  // writes only after its read filled the whole buffer.
  REQUIRE(owtest::wait_for([&] {
    for (pid_t p : h.procs(cg.path()).value_or({}))
      if (trim(read_text("/proc/" + std::to_string(p) + "/comm").value_or("")) == "sleep") return true;
    return false;
  }, 10000));
  REQUIRE(h.read(cg.path())->usage_bytes > (20ull << 20));
  auto l = snapshot_loader(h, 16384);
  auto s = sampler::Sampler::open(h, l.get(), {cg.path()});
  REQUIRE(s.ok());
  auto snap = (*s)->take();
  auto files = h.read(cg.path());
  REQUIRE(snap.ok());
  REQUIRE(files.ok());
  REQUIRE(snap->samples.size() == 1);
  const auto& x = snap->samples[0];
  CHECK(x.cgroup_id == *h.id_of(cg.path()));
  CHECK(x.limit_bytes == 64ull << 20);
  CHECK(x.peak_bytes == files->peak_bytes);
  // usage moves a little between the two reads (page cache, kernel objects)
  CHECK(x.usage_bytes == Approx(files->usage_bytes).epsilon(0.05));
  CHECK(x.ev_oom_kill == files->events.oom_kill);
  sampler::FileSource fs(h, cg.path());
  auto f = fs.read();
  REQUIRE(f.ok());
  REQUIRE(f->size() == 1);
  CHECK((*f)[0].limit_bytes == x.limit_bytes);
  CHECK((*f)[0].peak_bytes == x.peak_bytes);
}
