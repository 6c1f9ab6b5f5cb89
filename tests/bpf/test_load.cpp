// Root: the real skeleton loads and attaches on this kernel, and the
// mark_victim logic runs under BPF_PROG_TEST_RUN with the test as "victim".
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf/events.hpp"
#include "bpf/loader.hpp"
#include "helpers.hpp"
#include "oomwatch.skel.h"
#include "util/fs.hpp"

using namespace ow;

TEST_CASE("skeleton loads and every required hook attaches", "[bpf]") {
  auto l = bpf::Loader::open({});
  REQUIRE(l.ok());
  bool seen = false;
  for (const auto& h : (*l)->hooks()) {
    INFO(h.tracepoint << " " << h.mode << " " << h.error);
    if (h.tracepoint == "mark_victim") {
      seen = true;
      CHECK(h.attached);
      CHECK((h.mode == "tp_btf" || h.mode == "raw_tp"));
    }
  }
  CHECK(seen);
  CHECK((*l)->events_fd() >= 0);
}

TEST_CASE("mark_victim handler decodes the current task under BPF_PROG_TEST_RUN", "[bpf]") {
  auto l = bpf::Loader::open({.oom_events = false, .test_programs = true});
  REQUIRE(l.ok());
  std::vector<ow_oom_event> got;
  auto rr = bpf::RingReader::open((*l)->events_fd(), [&](const ow_oom_event& e) { got.push_back(e); });
  REQUIRE(rr.ok());

  // Touch some anon memory so the rss figures are clearly non-zero.
  std::vector<char> buf(8 << 20, 1);
  __u64 args[1] = {4242};  // the "uid" argument
  LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof args);
  int fd = bpf_program__fd((*l)->skel()->progs.test_mark_victim);
  REQUIRE(bpf_prog_test_run_opts(fd, &opts) == 0);
  REQUIRE((*rr)->poll(100).ok());
  REQUIRE(got.size() == 1);
  const auto& e = got[0];
  CHECK(e.tgid == static_cast<__u32>(::getpid()));
  auto comm = read_text("/proc/self/comm");
  CHECK(bpf::comm_string(e.comm) == std::string(trim(*comm)));
  if ((*l)->victim_arg_is_task()) {
    CHECK(e.uid == 4242);
    CHECK(e.anon_rss_bytes >= (8u << 20));
    CHECK(e.total_vm_bytes > e.anon_rss_bytes);
    CHECK(e.pgtables_bytes > 0);
    auto h = owtest::hierarchy();
    CHECK(e.memcg_id == *h.id_of(h.self()));
  }
  CHECK(e.memcg_id == e.trigger_memcg_id);
  CHECK((*l)->stat(OW_STAT_OOM_EVENTS) == 1);
  CHECK((*l)->stat(OW_STAT_RB_DROPS) == 0);
  CHECK(buf[100] == 1);
}

TEST_CASE("ring buffer overflow: every event is delivered or counted as dropped, and the stream goes on", "[bpf]") {
  auto l = bpf::Loader::open({.oom_events = false, .test_programs = true});
  REQUIRE(l.ok());
  size_t got = 0;
  auto rr = bpf::RingReader::open((*l)->events_fd(), [&](const ow_oom_event&) { ++got; });
  REQUIRE(rr.ok());
  int fd = bpf_program__fd((*l)->skel()->progs.test_mark_victim);
  __u64 args[1] = {1};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof args);
  // More events than OW_RINGBUF_BYTES can hold, with nobody reading.
  const size_t fired = 2 * OW_RINGBUF_BYTES / sizeof(ow_oom_event);
  for (size_t i = 0; i < fired; ++i) REQUIRE(bpf_prog_test_run_opts(fd, &opts) == 0);
  uint64_t drops = (*l)->stat(OW_STAT_RB_DROPS);
  CHECK(drops > 0);
  while (got + drops < fired) {
    size_t before = got;
    REQUIRE((*rr)->poll(100).ok());
    if (got == before) break;
  }
  CHECK(got + drops == fired);  // nothing lost silently
  CHECK((*rr)->malformed() == 0);
  REQUIRE(bpf_prog_test_run_opts(fd, &opts) == 0);  // room again: the next one arrives
  REQUIRE((*rr)->poll(100).ok());
  CHECK(got + drops == fired + 1);
  CHECK((*l)->stat(OW_STAT_RB_DROPS) == drops);
}
