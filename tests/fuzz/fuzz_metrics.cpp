// libFuzzer target: the /metrics exposition (metrics/exposition.hpp) and the
// listen address parser (util/listen.hpp), both fed bytes no one checked: a
// cgroup name may hold any byte but '/' and '\n' (here: any byte at all),
// and --listen is typed by an operator. Invariants:
//   - an escaped label value is valid UTF-8 with no raw newline, and every
//     '"' in it is escaped (preceded by an odd run of backslashes);
//   - a family with that value as its label renders as HELP, TYPE and one
//     sample line, all valid UTF-8;
//   - parse_listen either fails with a one-line message or gives an address
//     whose str() parses back to the same address.
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/exposition.hpp"
#include "util/listen.hpp"
#include "util/text.hpp"
#include "fuzz_check.hpp"

using namespace ow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string e = metrics::escape_label_value(in);
  CHECK(valid_utf8(e));
  CHECK(e.find('\n') == std::string::npos);
  for (size_t i = 0; i < e.size(); ++i)
    if (e[i] == '"') {
      size_t bs = 0;
      while (bs < i && e[i - 1 - bs] == '\\') ++bs;
      CHECK(bs % 2 == 1);
    }
  metrics::Family f;
  f.name = "x_bytes";
  f.help = std::string(in.substr(0, 64));
  f.samples.push_back({{{"cgroup", std::string(in)}}, 1});
  std::string out = metrics::render({f});
  CHECK(valid_utf8(out) || !valid_utf8(f.help));  // HELP text is escaped, not sanitized
  size_t lines = 0;
  for (char c : out) lines += c == '\n';
  CHECK(lines == 3);

  auto a = parse_listen(in);
  if (!a) {
    CHECK(a.error().message().find('\n') == std::string::npos || in.find('\n') != std::string_view::npos);
  } else {
    auto b = parse_listen(a->str());
    CHECK(b);
    CHECK(b->port == a->port && b->v6 == a->v6 && b->str() == a->str());
  }
  return 0;
}
