// Root: the iter/bpf_map program lists maps with the memory cgroup they are
// charged to; the bpf() syscall tracepoints report creations as they happen.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "bpf/loader.hpp"
#include "bpfmem/events.hpp"
#include "bpfmem/fdinfo.hpp"
#include "bpfmem/kernel.hpp"
#include "helpers.hpp"
#include "oomwatch.skel.h"
#include "test_bpfmem_map.hpp"
#include "util/fd.hpp"

using namespace ow;

namespace {
std::unique_ptr<bpf::Loader> bpfmem_loader(bool events = false) {
  bpf::LoaderOptions o;
  o.oom_events = false;
  o.bpfmem = true;
  o.bpfmem_events = events;
  auto l = bpf::Loader::open(o);
  if (!l) FAIL(l.error().message());
  REQUIRE((*l)->bpfmem_loaded());
  return std::move(*l);
}

const ow_bpf_map_rec* find(const std::vector<ow_bpf_map_rec>& recs, uint32_t id) {
  for (const auto& r : recs)
    if (r.id == id) return &r;
  return nullptr;
}

uint32_t map_id_of(int fd) {
  bpf_map_info info{};
  __u32 len = sizeof info;
  REQUIRE(bpf_obj_get_info_by_fd(fd, &info, &len) == 0);
  return info.id;
}

// The memcg a map made by this process is charged to: the root's memcg has
// no objcg, so a test running in the root cgroup (the VM) sees "uncharged".
void check_charged_to_self(const ow_bpf_map_rec& r, const cg::Hierarchy& h) {
  if (h.self() == "/") {
    CHECK((r.flags & OW_BPF_MAP_UNCHARGED) != 0);
  } else {
    CHECK(r.memcg_id == *h.id_of(h.self()));
    CHECK((r.flags & OW_BPF_MAP_UNCHARGED) == 0);
  }
}
}  // namespace

TEST_CASE("iter/bpf_map lists a map with its sizes and charged memory cgroup", "[bpf][bpfmem]") {
  auto h = owtest::hierarchy();
  auto l = bpfmem_loader();

  // One map made here (charged to our cgroup) ...
  LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
  UniqueFd own(bpf_map_create(BPF_MAP_TYPE_HASH, "owiterown", 8, 16, 128, &mo));
  REQUIRE(own.valid());
  uint32_t own_id = map_id_of(own.get());
  // ... and one made inside a child cgroup, pinned, its creator gone.
  auto cg = owtest::make_cgroup(ow::kUnlimited, "owtest-bpfmem");
  owtest::PinGuard pin(owtest::unique_pin("iter"));
  owtest::create_pinned_map_in(h, cg.path(), pin.path);
  UniqueFd pinned(bpf_obj_get(pin.path.c_str()));
  REQUIRE(pinned.valid());
  uint32_t pinned_id = map_id_of(pinned.get());
  pinned.reset();

  auto recs = bpfmem::read_map_records(*l);
  REQUIRE(recs.ok());
  const auto* a = find(*recs, own_id);
  REQUIRE(a);
  CHECK(a->map_type == BPF_MAP_TYPE_HASH);
  CHECK(a->key_size == 8);
  CHECK(a->value_size == 16);
  CHECK(a->max_entries == 128);
  CHECK(a->map_flags == BPF_F_NO_PREALLOC);
  CHECK(std::string(a->name) == "owiterown");
  CHECK(a->usercnt >= 1);
  check_charged_to_self(*a, h);

  const auto* b = find(*recs, pinned_id);
  REQUIRE(b);
  CHECK(b->map_type == BPF_MAP_TYPE_HASH);
  CHECK(b->key_size == 4);
  CHECK(b->value_size == 1024);
  CHECK(b->max_entries == 4096);
  CHECK(std::string(b->name) == "owtestmap");
  CHECK(b->memcg_id == *h.id_of(cg.path()));  // charged where its creator ran
  CHECK(b->usercnt == 1);                      // the pin only
  CHECK((b->flags & OW_BPF_MAP_OLD_MEMCG) == 0);  // 6.0+: map->objcg

  // Removing the cgroup moves the charge to its parent (objcg reparenting,
  // 6.0+): memory charged to a dead container stays visible one level up.
  // (Reparented to the root, the objcg points at the root memcg: its id, not
  // "uncharged" as for a map created in the root.)
  auto parent_id = *h.id_of(h.self());
  REQUIRE(cg.remove().ok());
  bool moved = owtest::wait_for([&] {
    auto again = bpfmem::read_map_records(*l);
    const auto* c = again ? find(*again, pinned_id) : nullptr;
    return c && c->memcg_id == parent_id;
  }, 5000);
  CHECK(moved);
  CHECK(l->skel()->bss->bpfmem_iter_maps >= 2);
}

TEST_CASE("iter/bpf_map sees every map past one seq_file buffer", "[bpf][bpfmem]") {
  auto l = bpfmem_loader();
  // 600 records of 72 B = 42 KiB, more than the iterator's 32 KiB buffer.
  std::vector<UniqueFd> fds;
  std::set<uint32_t> want;
  for (int i = 0; i < 600; ++i) {
    fds.emplace_back(bpf_map_create(BPF_MAP_TYPE_ARRAY, "owmany", 4, 4, 1, nullptr));
    REQUIRE(fds.back().valid());
    want.insert(map_id_of(fds.back().get()));
  }
  auto recs = bpfmem::read_map_records(*l);
  REQUIRE(recs.ok());
  std::set<uint32_t> got;
  for (const auto& r : *recs)
    if (want.count(r.id)) got.insert(r.id);
  CHECK(got.size() == want.size());
  CHECK(recs->size() >= 600);
}

TEST_CASE("sys_enter/exit_bpf report map creations and program loads", "[bpf][bpfmem]") {
  auto h = owtest::hierarchy();
  auto l = bpfmem_loader(true);
  int attached = 0;
  for (const auto& hk : l->hooks()) {
    INFO(hk.tracepoint << " " << hk.mode << " " << hk.error);
    if (hk.tracepoint.rfind("syscalls/", 0) == 0) attached += hk.attached;
  }
  REQUIRE(attached == 2);
  CHECK(l->skel()->maps.gomemlimit_hints != nullptr);
  CHECK(bpf_map__fd(l->skel()->maps.gomemlimit_hints) < 0);  // the Loader never creates the hint map

  std::vector<ow_bpf_obj_event> got;
  auto rr = bpfmem::ObjEventReader::open(bpf_map__fd(l->skel()->maps.bpf_obj_events),
                                         [&](const ow_bpf_obj_event& e) { got.push_back(e); });
  REQUIRE(rr.ok());

  UniqueFd m(bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "owevmap", 4, 64, 256, nullptr));
  REQUIRE(m.valid());
  uint32_t mid = map_id_of(m.get());
  const struct bpf_insn ret0[] = {{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0}, {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
  UniqueFd p(bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "owevprog", "GPL", ret0, 2, nullptr));
  REQUIRE(p.valid());
  bpf_prog_info pi{};
  __u32 len = sizeof pi;
  REQUIRE(bpf_obj_get_info_by_fd(p.get(), &pi, &len) == 0);
  int bad = bpf_map_create(BPF_MAP_TYPE_HASH, "owevbad", 0, 8, 16, nullptr);  // key_size 0: EINVAL
  int bad_errno = errno;
  REQUIRE(bad < 0);

  REQUIRE(owtest::wait_for([&] {
    (void)(*rr)->poll(10);
    int n = 0;
    for (const auto& e : got) n += e.tgid == static_cast<__u32>(::getpid());
    return n >= 3;
  }, 10000));
  const ow_bpf_obj_event *em = nullptr, *ep = nullptr, *eb = nullptr;
  for (const auto& e : got) {
    if (e.tgid != static_cast<__u32>(::getpid())) continue;
    std::string name(e.name, strnlen(e.name, sizeof e.name));
    if (name == "owevmap") em = &e;
    if (name == "owevprog") ep = &e;
    if (name == "owevbad") eb = &e;
  }
  REQUIRE(em);
  CHECK(em->cmd == BPF_MAP_CREATE);
  CHECK(em->ret == m.get());
  CHECK(em->obj_id == mid);
  CHECK(em->obj_type == BPF_MAP_TYPE_LRU_HASH);
  CHECK(em->key_size == 4);
  CHECK(em->value_size == 64);
  CHECK(em->max_entries == 256);
  CHECK(em->pid == static_cast<__u32>(::gettid()));
  CHECK(em->memcg_id == *h.id_of(h.self()));
  auto comm = read_text("/proc/self/comm");
  CHECK(std::string(em->comm, strnlen(em->comm, sizeof em->comm)) == std::string(trim(*comm)));
  REQUIRE(ep);
  CHECK(ep->cmd == BPF_PROG_LOAD);
  CHECK(ep->obj_id == pi.id);
  CHECK(ep->obj_type == BPF_PROG_TYPE_SOCKET_FILTER);
  CHECK(ep->insn_cnt == 2);
  CHECK(ep->ret == p.get());
  REQUIRE(eb);
  CHECK(eb->ret == -bad_errno);
  CHECK(eb->obj_id == 0);
  CHECK((*rr)->malformed() == 0);
  CHECK(l->skel()->bss->bpfmem_rb_drops == 0);
}
