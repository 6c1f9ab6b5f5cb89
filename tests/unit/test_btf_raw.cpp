// FUNC ids found in raw BTF by one streamed pass (bpf/btf_raw.hpp), against
// the ids libbpf's own parse gives, on BTF written by libbpf with every kind
// of trailer before the FUNC; and the kfunc call rewrite
// (bpf/kfunc_call.hpp) on instruction arrays.
#include <catch2/catch.hpp>

#include <bpf/btf.h>

#include <memory>
#include <string>

#include "bpf/btf_raw.hpp"
#include "bpf/kfunc_call.hpp"
#include "oomwatch.h"

using namespace ow;

namespace {

struct BtfFree {
  void operator()(struct btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<struct btf, BtfFree>;

std::string raw_of(const struct btf* b) {
  uint32_t size = 0;
  const void* p = btf__raw_data(b, &size);
  return std::string(static_cast<const char*>(p), size);
}

// A BTF with one type of each trailer shape, `fill` members in one struct
// (a record longer than the reader's 128 KiB buffer when large), then FUNCs.
BtfPtr sample_btf(int fill) {
  BtfPtr b(btf__new_empty());
  int i32 = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  btf__add_ptr(b.get(), i32);
  btf__add_array(b.get(), i32, i32, 4);
  int st = btf__add_struct(b.get(), "big", 4 * fill);
  for (int i = 0; i < fill; ++i) btf__add_field(b.get(), ("f" + std::to_string(i)).c_str(), i32, 32 * i, 0);
  btf__add_union(b.get(), "u", 4);
  btf__add_field(b.get(), "a", i32, 0, 0);
  btf__add_enum(b.get(), "e", 4);
  btf__add_enum_value(b.get(), "E1", 1);
  btf__add_enum_value(b.get(), "E2", 2);
  btf__add_enum64(b.get(), "e64", 8, false);
  btf__add_enum64_value(b.get(), "F1", 1ull << 40);
  btf__add_fwd(b.get(), "fwd", BTF_FWD_STRUCT);
  btf__add_typedef(b.get(), "td", i32);
  btf__add_volatile(b.get(), i32);
  btf__add_const(b.get(), i32);
  btf__add_restrict(b.get(), btf__add_ptr(b.get(), i32));
  btf__add_float(b.get(), "flt", 4);
  btf__add_type_tag(b.get(), "tag", i32);
  btf__add_decl_tag(b.get(), "dtag", st, -1);
  int proto = btf__add_func_proto(b.get(), i32);
  btf__add_func_param(b.get(), "x", i32);
  btf__add_func_param(b.get(), "y", i32);
  btf__add_var(b.get(), "v", BTF_VAR_GLOBAL_ALLOCATED, i32);
  btf__add_datasec(b.get(), ".data", 4);
  btf__add_func(b.get(), "first_func", BTF_FUNC_GLOBAL, proto);
  btf__add_struct(b.get(), "bpf_rdonly_cast", 0);  // a struct of the FUNC's name: not a FUNC
  btf__add_func(b.get(), "bpf_rdonly_cast", BTF_FUNC_GLOBAL, proto);
  (void)st;
  return b;
}

}  // namespace

TEST_CASE("raw BTF: a FUNC's id is the one libbpf's parse gives, after every kind of type", "[btf_raw]") {
  const int fill = GENERATE(3, 20000);  // 20,000 members: one 240 KB record, past the reader's buffer
  CAPTURE(fill);
  auto b = sample_btf(fill);
  const std::string raw = raw_of(b.get());
  for (const char* name : {"first_func", "bpf_rdonly_cast"}) {
    INFO(name);
    auto id = bpf::btf_func_id(raw, name);
    REQUIRE(id.ok());
    CHECK(*id == btf__find_by_name_kind(b.get(), name, BTF_KIND_FUNC));
    CHECK(*id > 0);
  }
  // Names that are no FUNC: a struct, a member, a type that does not exist.
  for (const char* name : {"big", "f7", "nope", ""}) {
    INFO(name);
    auto id = bpf::btf_func_id(raw, name);
    REQUIRE(id.ok());
    CHECK(*id == 0);
  }
}

TEST_CASE("raw BTF: bytes that are not BTF, or end inside a type, are an error, not a crash", "[btf_raw]") {
  auto b = sample_btf(3);
  const std::string raw = raw_of(b.get());
  CHECK_FALSE(bpf::btf_func_id(std::string_view(raw).substr(0, 10), "bpf_rdonly_cast").ok());
  std::string bad = raw;
  bad[0] ^= 0x55;  // the magic
  CHECK_FALSE(bpf::btf_func_id(bad, "bpf_rdonly_cast").ok());
  // Cut inside the types: the FUNC is never reached.
  const btf_header* h = reinterpret_cast<const btf_header*>(raw.data());
  std::string cut = raw;
  btf_header* ch = reinterpret_cast<btf_header*>(cut.data());
  ch->type_len = h->type_len - 6;  // ends inside the last record
  auto r = bpf::btf_func_id(cut, "bpf_rdonly_cast");
  CHECK_FALSE(r.ok());
  // An unknown kind is refused, not skipped with a wrong length.
  std::string unk = raw;
  btf_type* t1 = reinterpret_cast<btf_type*>(unk.data() + h->hdr_len + h->type_off);  // "int"
  t1->info = (t1->info & ~(0x1fu << 24)) | (30u << 24);
  CHECK_FALSE(bpf::btf_func_id(unk, "bpf_rdonly_cast").ok());
  // Sections past the end.
  std::string past = raw;
  reinterpret_cast<btf_header*>(past.data())->str_len = h->str_len + 100;
  CHECK_FALSE(bpf::btf_func_id(past, "bpf_rdonly_cast").ok());
}

TEST_CASE("kfunc calls: placeholder helper calls become vmlinux kfunc calls, nothing else changes", "[btf_raw]") {
  auto call = [](int32_t imm, uint8_t src = 0) {
    bpf_insn i{};
    i.code = BPF_JMP | BPF_CALL;
    i.src_reg = src;
    i.imm = imm;
    return i;
  };
  bpf_insn mov{};
  mov.code = BPF_ALU64 | BPF_MOV | BPF_K;
  mov.imm = OW_HELPER_RDONLY_CAST;  // the number as an immediate, not a call
  std::vector<bpf_insn> insns{call(OW_HELPER_RDONLY_CAST), mov, call(1), call(OW_HELPER_RDONLY_CAST, BPF_PSEUDO_CALL),
                              call(OW_HELPER_RDONLY_CAST)};
  const auto before = insns;
  auto n = bpf::patch_kfunc_calls(insns, OW_HELPER_RDONLY_CAST, 64927);
  REQUIRE(n.ok());
  CHECK(*n == 2);
  for (size_t i : {size_t{0}, size_t{4}}) {
    CHECK(insns[i].src_reg == BPF_PSEUDO_KFUNC_CALL);
    CHECK(insns[i].imm == 64927);
    CHECK(insns[i].off == 0);
    CHECK(insns[i].code == (BPF_JMP | BPF_CALL));
  }
  for (size_t i : {size_t{1}, size_t{2}, size_t{3}}) {
    CHECK(insns[i].src_reg == before[i].src_reg);
    CHECK(insns[i].imm == before[i].imm);
  }
  // No id: refused while a call is left to rewrite; a program without one is fine.
  auto again = before;
  CHECK_FALSE(bpf::patch_kfunc_calls(again, OW_HELPER_RDONLY_CAST, 0).ok());
  std::vector<bpf_insn> none{call(1), mov};
  auto z = bpf::patch_kfunc_calls(none, OW_HELPER_RDONLY_CAST, 0);
  REQUIRE(z.ok());
  CHECK(*z == 0);
}
