// libFuzzer target: a line of the agent's audit log as `top` and `report`
// read it (view::parse_audit_line), then the event as the screen, the batch
// frame and the JSON frame print it. The audit log is a file on disk, and its
// strings carry cgroup names: whatever it holds, the printed event is one
// line with no control character (no escape sequence reaches a terminal) and
// valid UTF-8, cut to the width without splitting a character, and nothing
// throws.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/text.hpp"
#include "view/agent_inputs.hpp"
#include "view/frame.hpp"
#include "fuzz_check.hpp"

using namespace ow;

namespace {

// No C0 control, DEL or C1 control (U+0080..U+009F, C2 80..C2 9F in UTF-8).
bool no_controls(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f &&
        static_cast<unsigned char>(s[i + 1]) >= 0x80)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto e = view::parse_audit_line(line);
  if (!e) return 0;
  CHECK(e->source == "audit");
  CHECK(!e->kind.empty() && !e->detail.empty());
  std::string shown = view::format_event(*e);
  CHECK(no_controls(shown));
  CHECK(valid_utf8(shown));

  // The cgroup as a table row too: a path too long for the line is cut from
  // the front, the event line from the back, and neither cut splits a
  // character. The width comes from the input so that both cuts land
  // everywhere.
  view::FrameInfo fi{e->ts_ns, "files", "usage", "", false};
  view::Page page;
  view::Row row;
  row.path = e->cgroup;
  row.depth = static_cast<int>(size % 3);
  page.rows.push_back(row);
  page.total = page.matched = 1;
  const int width = 60 + static_cast<int>(size % 61);
  std::string batch = view::batch_frame(fi, page, {*e}, width);
  CHECK(valid_utf8(batch));
  for (size_t pos = 0; pos < batch.size();) {  // every line of the frame, the event's included
    size_t nl = batch.find('\n', pos);
    CHECK(nl != std::string::npos);            // the frame ends with a newline
    std::string_view one = std::string_view(batch).substr(pos, nl - pos);
    CHECK(no_controls(one));
    CHECK(pos == 0 || text_columns(one) <= static_cast<size_t>(width));  // the title line is not cut
    pos = nl + 1;
  }
  std::string j = json_line(view::json_frame(fi, page, {*e}));
  CHECK(j.find('\n') == std::string::npos && valid_utf8(j));
  auto back = nlohmann::json::parse(j, nullptr, false);
  CHECK(!back.is_discarded() && back["events"].size() == 1);
  return 0;
}
