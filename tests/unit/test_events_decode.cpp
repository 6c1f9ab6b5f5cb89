#include <catch2/catch.hpp>

#include <cstring>

#include "bpf/events.hpp"

using namespace ow::bpf;

TEST_CASE("OOM records decode and render with the contract keys", "[events]") {
  ow_oom_event raw{};
  raw.type = OW_EV_OOM_KILL;
  raw.pid = 101;
  raw.tgid = 100;
  raw.memcg_id = 4242;
  raw.anon_rss_bytes = 16 << 20;
  std::strcpy(raw.comm, "hog");
  auto d = decode_oom(&raw, sizeof raw);
  REQUIRE(d.ok());
  OomKill k;
  k.raw = *d;
  k.comm = comm_string(d->comm);
  k.cgroup = "/a/b";
  auto j = to_json(k);
  CHECK(j["type"] == "oom_kill");
  CHECK(j["pid"] == 100);
  CHECK(j["tid"] == 101);
  CHECK(j["comm"] == "hog");
  CHECK(j["cgroup"] == "/a/b");
  CHECK(j["cgroup_id"] == 4242);
  CHECK(j["anon_rss_bytes"] == 16 << 20);
  CHECK_FALSE(j.contains("partial"));
}

TEST_CASE("short or unknown records are rejected", "[events]") {
  ow_oom_event raw{};
  raw.type = OW_EV_OOM_KILL;
  CHECK_FALSE(decode_oom(&raw, sizeof raw - 1).ok());
  raw.type = 99;
  CHECK_FALSE(decode_oom(&raw, sizeof raw).ok());
}

TEST_CASE("a full 16-byte comm has no terminator and is still read right", "[events]") {
  char c[OW_COMM_LEN];
  std::memcpy(c, "0123456789abcdef", OW_COMM_LEN);
  CHECK(comm_string(c) == "0123456789abcdef");
}
