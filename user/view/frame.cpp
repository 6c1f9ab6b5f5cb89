// Text and JSON of `oomwatch top`: see frame.hpp.
#include "view/frame.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "stats/time.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

namespace ow::view {
namespace {

struct Column {
  const char* name;
  int width;
};
// The cgroup path is last: it is the only column of unbounded length.
constexpr Column kColumns[] = {{"USAGE", 9}, {"WS", 9},   {"LIMIT", 9},  {"%LIM", 6},    {"PEAK", 9},
                               {"HIGH", 9},  {"GROW/s", 10}, {"MAX", 6}, {"OOM", 4}, {"GOMEMLIMIT", 10}};
constexpr const char* kCgroupColumn = "CGROUP";

std::string size_or_max(uint64_t b) { return b == kUnlimited ? "max" : format_size(b); }

std::string percent(double p) {
  if (p < 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", p);
  return buf;
}

std::string growth(const std::optional<double>& g) {
  if (!g) return "-";  // one snapshot: no rate yet
  double bps = *g;
  if (std::fabs(bps) < 1) return "0";
  std::string s = format_size(static_cast<uint64_t>(std::llround(std::fabs(bps))));
  return (bps < 0 ? "-" : "+") + s;
}

std::string pad(std::string s, int w) {
  size_t cols = text_columns(s);
  if (static_cast<int>(cols) < w) s.insert(0, static_cast<size_t>(w) - cols, ' ');
  return s;
}

// At most w characters: a cut inside a UTF-8 sequence would leave bytes that
// are not UTF-8 on the terminal and in the batch output.
std::string cut(const std::string& s, int w) {
  if (w <= 0) return {};
  return std::string(text_head(s, static_cast<size_t>(w)));
}

std::string join_cells(const std::vector<std::string>& cells) {
  std::string out;
  size_t i = 0;
  for (const auto& c : kColumns) {
    out += pad(cells[i++], c.width);
    out += ' ';
  }
  return out;
}

// The last column: the path, or the name then the path ("shop/web-1/app  /kubepods/...").
constexpr const char* kNameGap = "  ";
std::string label(const Row& r) {
  return r.name.empty() ? printable(r.path) : printable(r.name) + kNameGap + printable(r.path);
}

}  // namespace

std::string bar(uint64_t usage, uint64_t ws, uint64_t limit, int width) {
  if (limit == kUnlimited || limit == 0 || width <= 0) return {};
  auto cells = [&](uint64_t v) {
    double f = std::min(1.0, static_cast<double>(v) / static_cast<double>(limit));
    return static_cast<int>(std::lround(f * width));
  };
  int u = cells(usage), w = std::min(cells(ws), u);
  return "[" + std::string(static_cast<size_t>(w), '=') + std::string(static_cast<size_t>(u - w), '-') +
         std::string(static_cast<size_t>(width - u), ' ') + "]";
}

std::vector<std::string> header_cells() {
  std::vector<std::string> h;
  for (const auto& c : kColumns) h.push_back(c.name);
  h.push_back(kCgroupColumn);
  return h;
}

std::vector<std::string> row_cells(const Row& r) {
  return {format_size(r.usage_bytes),
          format_size(r.working_set_bytes),
          size_or_max(r.limit_bytes),
          percent(r.percent),
          r.peak_bytes ? format_size(r.peak_bytes) : "-",
          r.high_bytes ? size_or_max(*r.high_bytes) : "-",
          growth(r.growth_bps),
          std::to_string(r.max_events),
          std::to_string(r.oom_kills),
          r.gomemlimit_bytes ? format_size(*r.gomemlimit_bytes) : "-",
          std::string(static_cast<size_t>(r.depth) * 2, ' ') + label(r)};
}

std::string format_header(int width) {
  auto h = header_cells();
  return cut(join_cells(h) + h.back(), width);
}

std::string format_row(const Row& r, int width, int bar_width) {
  auto cells = row_cells(r);
  std::string b = bar(r.usage_bytes, r.working_set_bytes, r.limit_bytes, bar_width);
  if (bar_width > 0 && b.empty()) b = std::string(static_cast<size_t>(bar_width) + 2, ' ');
  std::string head = join_cells(cells) + (b.empty() ? "" : b + " ");
  // A path too long for the line keeps its end: the leaf names the cgroup.
  // A name stays whole before it; the path after it is cut instead.
  std::string indent(static_cast<size_t>(r.depth) * 2, ' ');
  std::string name = r.name.empty() ? "" : printable(r.name) + kNameGap;
  std::string path = printable(r.path);
  int room = width - static_cast<int>(text_columns(head) + indent.size() + text_columns(name));
  if (room > 3 && static_cast<int>(text_columns(path)) > room)
    path = ".." + std::string(text_tail(path, static_cast<size_t>(room - 2)));
  return cut(head + indent + name + path, width);
}

int bar_column() {
  int x = 0;
  for (const auto& c : kColumns) x += c.width + 1;
  return x;
}

std::string format_event(const Event& e) {
  return stats::format_rfc3339(e.ts_ns).substr(0, 19) + "Z " + e.kind + " " + printable(e.cgroup) + " " + e.detail +
         " (" + e.source + ")";
}

std::string batch_frame(const FrameInfo& info, const Page& page, const std::vector<Event>& events, int width) {
  std::string out = stats::format_rfc3339(info.ts_ns) + "  cgroups " + std::to_string(page.total) + ", shown " +
                    std::to_string(page.rows.size()) + " of " + std::to_string(page.matched) + "  sort " + info.sort +
                    (info.filter.empty() ? "" : "  filter " + printable(info.filter)) + (info.tree ? "  tree" : "") +
                    "  source " + info.source + "\n";
  out += format_header(width) + "\n";
  for (const auto& r : page.rows) out += format_row(r, width, 0) + "\n";
  out += "events:" + std::string(events.empty() ? " none" : "") + "\n";
  for (const auto& e : events) out += "  " + cut(format_event(e), width - 2) + "\n";
  return out;
}

nlohmann::ordered_json json_frame(const FrameInfo& info, const Page& page, const std::vector<Event>& events) {
  // null for no limit and for a figure that does not exist, as in every JSON oomwatch prints.
  using ojson = nlohmann::ordered_json;
  auto bytes_or_null = [](uint64_t b) { return b == kUnlimited ? ojson() : ojson(b); };
  nlohmann::ordered_json j;
  j["ts"] = stats::format_rfc3339(info.ts_ns);
  j["source"] = info.source;
  j["sort"] = info.sort;
  j["filter"] = printable(info.filter);
  j["tree"] = info.tree;
  j["total"] = page.total;
  j["matched"] = page.matched;
  auto& rows = j["rows"] = nlohmann::ordered_json::array();
  for (const auto& r : page.rows) {
    nlohmann::ordered_json o;
    o["cgroup"] = printable(r.path);
    o["cgroup_id"] = r.cgroup_id;
    o["depth"] = r.depth;
    o["usage_bytes"] = r.usage_bytes;
    o["working_set_bytes"] = r.working_set_bytes;
    o["limit_bytes"] = bytes_or_null(r.limit_bytes);
    o["percent"] = r.percent < 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(r.percent);
    o["peak_bytes"] = r.peak_bytes ? ojson(r.peak_bytes) : ojson();
    o["high_bytes"] = r.high_bytes ? bytes_or_null(*r.high_bytes) : ojson();
    o["growth_bytes_per_s"] = r.growth_bps ? ojson(*r.growth_bps) : ojson();
    o["max_events"] = r.max_events;
    o["oom_kills"] = r.oom_kills;
    o["gomemlimit_bytes"] = r.gomemlimit_bytes ? nlohmann::ordered_json(*r.gomemlimit_bytes) : nlohmann::ordered_json();
    // Added after the figures, each in every row (null when the cgroup has none).
    ojson who = ojson::object();
    k8s::add_identity(who, r.who);
    o["name"] = r.name.empty() ? ojson() : ojson(printable(r.name));
    o["kubernetes"] = who.contains("kubernetes") ? who["kubernetes"] : ojson();
    o["container"] = who.contains("container") ? who["container"] : ojson();
    rows.push_back(std::move(o));
  }
  auto& ev = j["events"] = nlohmann::ordered_json::array();
  for (const auto& e : events)
    ev.push_back({{"ts", stats::format_rfc3339(e.ts_ns)}, {"cgroup", printable(e.cgroup)}, {"kind", e.kind},
                  {"detail", e.detail}, {"source", e.source}});
  return j;
}

}  // namespace ow::view
