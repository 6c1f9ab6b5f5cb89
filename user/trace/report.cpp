#include "trace/report.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "util/text.hpp"
#include "util/units.hpp"

namespace ow::trace {

const char* kind_name(int k) {
  static const char* const kNames[kKinds] = {"anon", "file", "shmem", "kernel", "slab"};
  return k >= 0 && k < kKinds ? kNames[k] : "?";
}

const char* method_name(Method m) { return m == Method::Tracepoints ? "tracepoints" : "proc-sampling"; }

int64_t ProcUsage::net() const {
  int64_t n = 0;
  for (int k = 0; k < kKinds; k++)
    if (k != static_cast<int>(Kind::Slab)) n += kinds[k].net();
  return n;
}

std::vector<Row> top_rows(const Totals& t, double duration_s, size_t top) {
  std::vector<Row> rows;
  int64_t grown = 0;
  for (const auto& [tgid, u] : t) {
    bool any = false;
    for (const auto& k : u.kinds) any = any || k.charged || k.uncharged;
    if (!any) continue;
    Row r;
    r.usage = u;
    r.net = u.net();
    r.rate_bps = duration_s > 0 ? static_cast<double>(r.net) / duration_s : 0;
    if (r.net > 0) grown += r.net;
    rows.push_back(std::move(r));
  }
  for (auto& r : rows) r.share = grown > 0 && r.net > 0 ? static_cast<double>(r.net) / static_cast<double>(grown) : 0;
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.net != b.net ? a.net > b.net : a.usage.tgid < b.usage.tgid;
  });
  if (top && rows.size() > top) rows.resize(top);
  return rows;
}

Totals delta(const Totals& later, const Totals& earlier) {
  Totals d;
  for (const auto& [tgid, u] : later) {
    ProcUsage x = u;
    if (auto it = earlier.find(tgid); it != earlier.end())
      for (int k = 0; k < kKinds; k++) {
        x.kinds[k].charged -= std::min(x.kinds[k].charged, it->second.kinds[k].charged);
        x.kinds[k].uncharged -= std::min(x.kinds[k].uncharged, it->second.kinds[k].uncharged);
      }
    d.emplace(tgid, std::move(x));
  }
  return d;
}

namespace {

// "+64.0MiB" / "-4.0KiB" / "0"
std::string signed_size(int64_t v) {
  if (v == 0) return "0";
  uint64_t m = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  return (v < 0 ? "-" : "+") + format_size(m);
}

nlohmann::ordered_json row_json(const Row& r, const TraceResult& res) {
  nlohmann::ordered_json j;
  j["tgid"] = r.usage.tgid;
  j["comm"] = printable(r.usage.comm);
  j["net_bytes"] = r.net;
  j["rate_bytes_per_s"] = std::llround(r.rate_bps);
  j["share"] = std::round(r.share * 1000) / 1000;
  nlohmann::ordered_json kinds = nlohmann::ordered_json::object();
  for (int k = 0; k < kKinds; k++) {
    if (!res.kinds_measured[k]) continue;
    const auto& kb = r.usage.kinds[k];
    kinds[kind_name(k)] = {{"charged_bytes", kb.charged}, {"uncharged_bytes", kb.uncharged}, {"net_bytes", kb.net()}};
  }
  j["kinds"] = std::move(kinds);
  return j;
}

}  // namespace

nlohmann::ordered_json to_json(const TraceResult& r, size_t top) {
  nlohmann::ordered_json j;
  j["cgroup"] = printable(r.cgroup);
  j["method"] = method_name(r.method);
  if (!r.mode.empty()) j["mode"] = r.mode;
  if (!r.note.empty()) j["note"] = r.note;
  j["duration_s"] = std::round(r.duration_s * 1000) / 1000;
  j["stopped_by"] = r.stopped_by;
  nlohmann::ordered_json kinds = nlohmann::ordered_json::array();
  for (int k = 0; k < kKinds; k++)
    if (r.kinds_measured[k]) kinds.push_back(kind_name(k));
  j["kinds"] = std::move(kinds);
  if (r.method == Method::Tracepoints) j["events"] = r.events;
  j["drops"] = r.drops;
  auto rows = top_rows(r.totals, r.duration_s, top);
  int64_t net = 0;
  for (const auto& [tgid, u] : r.totals) net += u.net();
  j["net_bytes"] = net;
  nlohmann::ordered_json procs = nlohmann::ordered_json::array();
  for (const auto& row : rows) procs.push_back(row_json(row, r));
  j["processes"] = std::move(procs);
  nlohmann::ordered_json tl = nlohmann::ordered_json::array();
  const Totals* prev = nullptr;
  static const Totals kEmpty;
  double prev_t = 0;
  for (const auto& p : r.timeline) {
    Totals d = delta(p.totals, prev ? *prev : kEmpty);
    nlohmann::ordered_json e;
    e["t_s"] = std::round(p.t_s * 1000) / 1000;
    int64_t n = 0;
    for (const auto& [tgid, u] : d) n += u.net();
    e["net_bytes"] = n;
    nlohmann::ordered_json tp = nlohmann::ordered_json::array();
    for (const auto& row : top_rows(d, p.t_s - prev_t, top))
      tp.push_back({{"tgid", row.usage.tgid}, {"net_bytes", row.net}});
    e["top"] = std::move(tp);
    tl.push_back(std::move(e));
    prev = &p.totals;
    prev_t = p.t_s;
  }
  j["timeline"] = std::move(tl);
  return j;
}

std::vector<std::string> to_text(const TraceResult& r, size_t top) {
  std::vector<std::string> out;
  out.push_back(fmt::format("cgroup {}: {} over {:.1f}s ({}{})", printable(r.cgroup), method_name(r.method), r.duration_s,
                            r.stopped_by, r.mode.empty() ? "" : ", " + r.mode));
  if (!r.note.empty()) out.push_back("note: " + r.note);
  if (r.drops) out.push_back(fmt::format("warning: {} {} lost", r.drops,
                                         r.method == Method::Tracepoints ? "charges" : "process reads"));
  auto rows = top_rows(r.totals, r.duration_s, top);
  if (rows.empty()) {
    out.push_back("no charges seen");
    return out;
  }
  std::string head = fmt::format("{:>8} {:<16} {:>10} {:>11} {:>6}", "TGID", "COMM", "NET", "RATE/s", "SHARE");
  for (int k = 0; k < kKinds; k++)
    if (r.kinds_measured[k]) head += fmt::format(" {:>22}", std::string(kind_name(k)) + " +/-");
  out.push_back(head);
  for (const auto& row : rows) {
    std::string line = fmt::format("{:>8} {:<16} {:>10} {:>11} {:>5.1f}%", row.usage.tgid, printable(row.usage.comm),
                                   signed_size(row.net), signed_size(std::llround(row.rate_bps)), row.share * 100);
    for (int k = 0; k < kKinds; k++) {
      if (!r.kinds_measured[k]) continue;
      const auto& kb = row.usage.kinds[k];
      line += fmt::format(" {:>22}", kb.charged || kb.uncharged
                                          ? "+" + format_size(kb.charged) + "/-" + format_size(kb.uncharged)
                                          : std::string("-"));
    }
    out.push_back(line);
  }
  return out;
}

}  // namespace ow::trace
