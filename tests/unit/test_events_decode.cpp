#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>

#include "bpf/events.hpp"
#include "util/text.hpp"

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
  // no memcg at its limit: a global OOM
  CHECK(j["global"] == true);
  CHECK(j["limit_cgroup"] == "");
  CHECK(j["limit_cgroup_id"] == 0);
  CHECK(j["limit_usage_bytes"].is_null());  // a global OOM hit no limit: null, not 0
  CHECK(j["limit_bytes"].is_null());
  CHECK(j["limit_from"] == "kernel");
  CHECK_FALSE(j.contains("limit_counter"));
}

TEST_CASE("the cgroup whose limit was hit renders with its figures", "[events]") {
  ow_oom_event raw{};
  raw.type = OW_EV_OOM_KILL;
  raw.memcg_id = 4242;
  raw.trigger_memcg_id = 4243;
  raw.limit_memcg_id = 4000;
  raw.limit_usage_bytes = (96ull << 20) - 8192;
  raw.limit_max_bytes = 96ull << 20;
  auto d = decode_oom(&raw, sizeof raw);
  REQUIRE(d.ok());
  CHECK(d->limit_memcg_id == 4000);
  OomKill k;
  k.raw = *d;
  k.cgroup = "/p/a";
  k.trigger_cgroup = "/p/b";
  k.limit_cgroup = "/p";
  auto j = to_json(k);
  CHECK(j["global"] == false);
  CHECK(j["limit_cgroup"] == "/p");
  CHECK(j["limit_cgroup_id"] == 4000);
  CHECK(j["limit_usage_bytes"] == (96ull << 20) - 8192);
  CHECK(j["limit_bytes"] == 96ull << 20);
  CHECK(j["limit_counter"] == "memory");
  CHECK(j["limit_from"] == "kernel");
  CHECK(j["cgroup"] == "/p/a");
  CHECK(j["trigger_cgroup"] == "/p/b");

  k.raw.flags |= OW_OOM_LIMIT_MEMSW;
  CHECK(to_json(k)["limit_counter"] == "memsw");

  // a limit cgroup already removed (unknown id): no path, still not global
  k.limit_cgroup = "";
  j = to_json(k);
  CHECK(j["limit_cgroup"] == "");
  CHECK(j["global"] == false);
  CHECK(j["limit_cgroup_id"] == 4000);
}

TEST_CASE("before 6.8 the kernel gives the victim's pid only: its rss figures are null, not 0", "[events]") {
  ow_oom_event raw{};
  raw.type = OW_EV_OOM_KILL;
  raw.tgid = 100;
  raw.flags = OW_OOM_PID_ONLY;
  OomKill k;
  k.raw = raw;
  auto j = to_json(k);
  for (const char* f : {"anon_rss_bytes", "file_rss_bytes", "shmem_rss_bytes", "pgtables_bytes", "total_vm_bytes"}) {
    CAPTURE(f);
    CHECK(j[f].is_null());
  }
  CHECK(j["pid"] == 100);
  CHECK(j.contains("partial"));
  k.raw.flags = 0;
  CHECK(to_json(k)["anon_rss_bytes"] == 0);  // a real 0 from a 6.8+ kernel
}

TEST_CASE("a limit cgroup path with any bytes renders as valid JSON text", "[events]") {
  ow_oom_event raw{};
  raw.type = OW_EV_OOM_KILL;
  raw.limit_memcg_id = 7;
  OomKill k;
  k.raw = raw;
  k.limit_cgroup = std::string("/p\xff\x01q", 5);
  auto line = ow::json_line(to_json(k));
  CHECK(line.find('\n') == std::string::npos);
  CHECK(ow::valid_utf8(line));
  CHECK(to_json(k)["limit_cgroup"] == ow::printable(k.limit_cgroup));
}

TEST_CASE("an OOM event line starts with type and its UTC time, keys in the documented order", "[events]") {
  ow_oom_event raw{};
  raw.type = OW_EV_OOM_KILL;
  raw.tgid = 100;
  raw.limit_memcg_id = 7;
  OomKill k;
  k.raw = raw;
  k.comm = "hog";
  k.cgroup = "/a";
  k.limit_cgroup = "/a";
  k.wall_ns = 1763856000'123'456'789LL;  // 2025-11-23T00:00:00.123456789Z
  auto j = to_json(k);
  CHECK(j["ts"] == "2025-11-23T00:00:00.123Z");
  CHECK(j["ts_ns"] == 1763856000'123'456'789LL);
  std::vector<std::string> keys;
  for (const auto& [key, v] : j.items()) keys.push_back(key);
  // docs/cli.md "events" lists these first, in this order.
  std::vector<std::string> want{"type", "ts", "pid", "comm", "cgroup", "cgroup_id", "anon_rss_bytes", "file_rss_bytes",
                                "shmem_rss_bytes", "pgtables_bytes", "limit_cgroup", "limit_usage_bytes", "limit_bytes",
                                "limit_counter", "limit_from", "global"};
  REQUIRE(keys.size() > want.size());
  CHECK(std::vector<std::string>(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(want.size())) == want);
  CHECK(ow::json_line(j).rfind("{\"type\":\"oom_kill\",\"ts\":\"2025-11-23T00:00:00.123Z\",\"pid\":100,", 0) == 0);
  CHECK(event_time(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("short or unknown records are rejected", "[events]") {
  ow_oom_event raw{};
  raw.type = OW_EV_OOM_KILL;
  CHECK_FALSE(decode_oom(&raw, sizeof raw - 1).ok());
  // a record from before the limit_* fields were appended (128 bytes) is short
  CHECK_FALSE(decode_oom(&raw, offsetof(ow_oom_event, limit_memcg_id)).ok());
  // a longer record (fields appended later) decodes; the tail is ignored
  unsigned char longer[sizeof raw + 8] = {};
  std::memcpy(longer, &raw, sizeof raw);
  CHECK(decode_oom(longer, sizeof longer).ok());
  raw.type = 99;
  CHECK_FALSE(decode_oom(&raw, sizeof raw).ok());
}

TEST_CASE("a full 16-byte comm has no terminator and is still read right", "[events]") {
  char c[OW_COMM_LEN];
  std::memcpy(c, "0123456789abcdef", OW_COMM_LEN);
  CHECK(comm_string(c) == "0123456789abcdef");
}
