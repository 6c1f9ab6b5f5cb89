// The CO-RE subset of a kernel BTF (bpf/core_btf.hpp core_btf_subset), on
// small BTFs built here: every kernel type named like one of the object's
// structs, unions or enums (flavors stripped) is kept with what it embeds,
// pointers point to void, and nothing else comes along.
#include <catch2/catch.hpp>

#include <bpf/btf.h>

#include <memory>
#include <set>
#include <string>

#include "bpf/core_btf.hpp"

using namespace ow;

namespace {

struct BtfFree {
  void operator()(struct btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<struct btf, BtfFree>;

std::set<std::string> names_of(const struct btf* b) {
  std::set<std::string> out;
  for (uint32_t id = 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    std::string n = btf__name_by_offset(b, t->name_off);
    out.insert(std::to_string(btf_kind(t)) + ":" + n);
  }
  return out;
}

}  // namespace

TEST_CASE("core BTF subset: the object's types with what they embed, pointers cut", "[core_btf]") {
  // The "kernel": struct mem { long usage; struct inner in; struct other *p; struct inner arr[2]; },
  // struct inner { int a; }, struct other { int z; } (only behind a pointer), enum stat_item {A, B},
  // struct unrelated { int q; }, typedef int myint used by inner.b.
  BtfPtr k(btf__new_empty());
  REQUIRE(k);
  int i32 = btf__add_int(k.get(), "int", 4, BTF_INT_SIGNED);
  int i64 = btf__add_int(k.get(), "long", 8, BTF_INT_SIGNED);
  int other = btf__add_struct(k.get(), "other", 4);
  REQUIRE(btf__add_field(k.get(), "z", i32, 0, 0) == 0);
  int myint = btf__add_typedef(k.get(), "myint", i32);
  int inner = btf__add_struct(k.get(), "inner", 8);
  REQUIRE(btf__add_field(k.get(), "a", i32, 0, 0) == 0);
  REQUIRE(btf__add_field(k.get(), "b", myint, 32, 0) == 0);
  int ptr = btf__add_ptr(k.get(), other);
  int arr = btf__add_array(k.get(), i32, inner, 2);
  int mem = btf__add_struct(k.get(), "mem", 48);
  REQUIRE(btf__add_field(k.get(), "usage", i64, 0, 0) == 0);
  REQUIRE(btf__add_field(k.get(), "in", inner, 64, 0) == 0);
  REQUIRE(btf__add_field(k.get(), "p", ptr, 128, 0) == 0);
  REQUIRE(btf__add_field(k.get(), "arr", arr, 192, 0) == 0);
  int en = btf__add_enum(k.get(), "stat_item", 4);
  REQUIRE(btf__add_enum_value(k.get(), "A", 0) == 0);
  REQUIRE(btf__add_enum_value(k.get(), "B", 7) == 0);
  int unrelated = btf__add_struct(k.get(), "unrelated", 4);
  REQUIRE(btf__add_field(k.get(), "q", i32, 0, 0) == 0);
  REQUIRE((mem > 0 && en > 0 && unrelated > 0));

  // The "object": a flavored mem, the enum, and a struct the kernel lacks.
  BtfPtr o(btf__new_empty());
  int oi = btf__add_int(o.get(), "int", 4, BTF_INT_SIGNED);
  REQUIRE(btf__add_struct(o.get(), "mem___new", 8) > 0);
  REQUIRE(btf__add_field(o.get(), "usage", oi, 0, 0) == 0);
  REQUIRE(btf__add_enum(o.get(), "stat_item", 4) > 0);
  REQUIRE(btf__add_enum_value(o.get(), "B", 1) == 0);
  REQUIRE(btf__add_struct(o.get(), "missing", 4) > 0);
  REQUIRE(btf__add_field(o.get(), "x", oi, 0, 0) == 0);

  auto raw = bpf::core_btf_subset(o.get(), k.get());
  REQUIRE(raw);
  BtfPtr s(btf__new(raw->data(), static_cast<uint32_t>(raw->size())));
  REQUIRE(s);
  auto names = names_of(s.get());
  const std::string S = std::to_string(BTF_KIND_STRUCT) + ":";
  CHECK(names.count(S + "mem") == 1);
  CHECK(names.count(S + "inner") == 1);
  CHECK(names.count(std::to_string(BTF_KIND_ENUM) + ":stat_item") == 1);
  CHECK(names.count(std::to_string(BTF_KIND_TYPEDEF) + ":myint") == 1);
  CHECK(names.count(S + "other") == 0);  // only behind a pointer
  CHECK(names.count(S + "unrelated") == 0);
  CHECK(names.count(S + "missing") == 0);

  // mem's members keep their names, offsets and (remapped) types.
  int sid = btf__find_by_name_kind(s.get(), "mem", BTF_KIND_STRUCT);
  REQUIRE(sid > 0);
  const btf_type* sm = btf__type_by_id(s.get(), sid);
  REQUIRE(btf_vlen(sm) == 4);
  CHECK(sm->size == 48);
  const struct btf_member* m = btf_members(sm);
  CHECK(std::string(btf__name_by_offset(s.get(), m[1].name_off)) == "in");
  CHECK(btf_member_bit_offset(sm, 1) == 64);
  const btf_type* in = btf__type_by_id(s.get(), m[1].type);
  CHECK((btf_is_struct(in) && std::string(btf__name_by_offset(s.get(), in->name_off)) == "inner"));
  const btf_type* p = btf__type_by_id(s.get(), m[2].type);
  REQUIRE(btf_is_ptr(p));
  CHECK(p->type == 0);  // void
  const btf_type* a = btf__type_by_id(s.get(), m[3].type);
  REQUIRE(btf_is_array(a));
  CHECK(btf_array(a)->nelems == 2);
  CHECK(btf__type_by_id(s.get(), btf_array(a)->type) == in);
  CHECK(btf__resolve_size(s.get(), sid) == 48);
  // The enum's values, as the kernel has them.
  int eid = btf__find_by_name_kind(s.get(), "stat_item", BTF_KIND_ENUM);
  REQUIRE(eid > 0);
  const btf_type* e = btf__type_by_id(s.get(), eid);
  REQUIRE(btf_vlen(e) == 2);
  CHECK(btf_enum(e)[1].val == 7);
}
