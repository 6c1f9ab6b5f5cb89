// The working set of the files source (and of the BPF source's fallback):
// memory.stat's hierarchical inactive file figure, usage minus it, floored at 0.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "cgroup/hierarchy.hpp"
#include "sampler/source.hpp"

using namespace ow;

namespace {
// Abridged v1 memory.stat: local figures first, then the hierarchical total_*.
constexpr const char* kStatV1 =
    "cache 50331648\n"
    "rss 16777216\n"
    "inactive_anon 0\n"
    "active_anon 16777216\n"
    "inactive_file 25165824\n"
    "active_file 8388608\n"
    "total_cache 58720256\n"
    "total_inactive_file 33554432\n"
    "total_active_file 8388608\n";
constexpr const char* kStatV2 =
    "anon 16777216\n"
    "file 50331648\n"
    "inactive_anon 0\n"
    "inactive_file 33554432\n"
    "active_file 8388608";  // no final newline

struct TempRoot {
  std::string path;
  TempRoot() {
    char t[] = "/tmp/owtest-ws-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempRoot() { (void)!std::system(("rm -rf " + path).c_str()); }
};
}  // namespace

TEST_CASE("stat_value finds whole keys only", "[sampler][working_set]") {
  uint64_t v = 0;
  CHECK(sampler::stat_value(kStatV1, "total_inactive_file", v));
  CHECK(v == 33554432);
  CHECK(sampler::stat_value(kStatV1, "inactive_file", v));  // not the total_ line
  CHECK(v == 25165824);
  CHECK(sampler::stat_value(kStatV1, "cache", v));
  CHECK(v == 50331648);
  CHECK_FALSE(sampler::stat_value(kStatV1, "inactive", v));
  CHECK_FALSE(sampler::stat_value(kStatV1, "total_inactive_file_x", v));
  CHECK(sampler::stat_value(kStatV2, "active_file", v));  // last line, no newline
  CHECK(v == 8388608);
  CHECK_FALSE(sampler::stat_value("inactive_file x\n", "inactive_file", v));
  CHECK_FALSE(sampler::stat_value("", "inactive_file", v));
  CHECK(std::string(sampler::inactive_file_key(cg::Version::V1)) == "total_inactive_file");
  CHECK(std::string(sampler::inactive_file_key(cg::Version::V2)) == "inactive_file");
}

TEST_CASE("fill_working_set: usage minus the hierarchical inactive file, floored at 0", "[sampler][working_set]") {
  for (auto ver : {cg::Version::V1, cg::Version::V2}) {
    TempRoot root;
    {
      std::ofstream f(root.path + "/memory.stat");
      f << (ver == cg::Version::V1 ? kStatV1 : kStatV2);
      REQUIRE(f.good());
    }
    cg::Hierarchy h(root.path, ver);
    sampler::Sample s;
    s.usage_bytes = 60ull << 20;
    REQUIRE(sampler::fill_working_set(h, "/", s).ok());
    CHECK(s.inactive_file_bytes == 32ull << 20);
    CHECK(s.working_set_bytes == 28ull << 20);
    s.usage_bytes = 16ull << 20;  // usage read before a burst of page cache: never negative
    REQUIRE(sampler::fill_working_set(h, "/", s).ok());
    CHECK(s.working_set_bytes == 0);
    CHECK_FALSE(sampler::fill_working_set(h, "/gone", s).ok());
  }
}
