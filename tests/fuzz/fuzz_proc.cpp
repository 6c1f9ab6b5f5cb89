// libFuzzer target: the /proc parsers.
//   /proc/meminfo            gomemlimit::parse_mem_total, parse_meminfo (util/meminfo)
//   /proc/<pid>/fdinfo/<fd>  bpfmem::FdInfo (and the fd link target classifier)
//   GOMEMLIMIT (environ)     gomemlimit::parse_gomemlimit_env
// Every parser gets the whole input; none may throw or read out of bounds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gomemlimit/env.hpp"
#include "bpfmem/fdinfo.hpp"
#include "gomemlimit/inputs.hpp"
#include "util/meminfo.hpp"
#include "util/units.hpp"
#include "fuzz_check.hpp"

using namespace ow;
using ow::fuzz::all_digits;


namespace {

void fuzz_gomemlimit_env(std::string_view s) {
  auto v = gomemlimit::parse_gomemlimit_env(s);
  if (!v) return;
  if (*v == kUnlimited) {
    CHECK(s == "off");
    return;
  }
  // The Go runtime's range, and its own syntax reads back the same value.
  CHECK(*v <= static_cast<uint64_t>(INT64_MAX));
  CHECK(gomemlimit::parse_gomemlimit_env(std::to_string(*v)) == v);
  CHECK(gomemlimit::parse_gomemlimit_env(std::to_string(*v) + "B") == v);
  if (*v % 1024 == 0) CHECK(gomemlimit::parse_gomemlimit_env(std::to_string(*v / 1024) + "KiB") == v);
  if (all_digits(s) && s.size() <= 18) CHECK(*v == std::strtoull(std::string(s).c_str(), nullptr, 10));
}

void fuzz_fdinfo(std::string_view s) {
  auto f = bpfmem::FdInfo::parse(s);
  static const char* const kKeys[] = {"memlock", "map_id", "prog_id", "link_id", "map_type", "prog_type",
                                      "key_size", "value_size", "max_entries", "map_flags", "prog_tag", "pos"};
  for (const char* k : kKeys) {
    auto str = f.str(k);
    auto u = f.u64(k);
    if (u) CHECK(str && !str->empty());
    if (str) CHECK(str->empty() || (str->front() != ' ' && str->front() != '\t' && str->back() != ' ' && str->back() != '\t'));
  }
  (void)bpfmem::classify_fd_target(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  (void)gomemlimit::parse_mem_total(in);
  (void)parse_meminfo(in, "MemAvailable");
  fuzz_fdinfo(in);
  fuzz_gomemlimit_env(in);
  // An environment variable cannot hold a NUL: the C-string path reads up to the first one.
  std::string env(in.substr(0, in.find('\0')));
  CHECK(!gomemlimit::describe_env_gomemlimit(env.c_str()).empty());
  return 0;
}
