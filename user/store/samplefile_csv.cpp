// CSV codec of sample records (format in samplefile.hpp).
#include <charconv>

#include "stats/csv.hpp"
#include "stats/time.hpp"
#include "store/samplefile.hpp"
#include "store/samplefile_fields.hpp"

namespace ow::store {

std::string csv_header() {
  std::string h;
  for (const auto& f : detail::kFields) {
    if (!h.empty()) h += ",";
    h += f.name;
  }
  return h;
}

Result<std::string> to_csv(const sampler::Sample& s) {
  std::string out;
  if (auto st = append_csv(out, s, stats::format_rfc3339(s.ts_ns)); !st) return st.error();
  return out;
}

Status append_csv(std::string& out, const sampler::Sample& s, std::string_view ts) {
  if (s.cgroup.find_first_of("\r\n") != std::string::npos)
    return app_error("cgroup path with a line break cannot be written as CSV (use .jsonl):", s.cgroup);
  out += ts;
  out += ',';
  if (s.cgroup.find_first_of(",\"") == std::string::npos)
    out += s.cgroup;
  else
    out += stats::csv_field(s.cgroup);
  for (const auto& f : detail::kFields) {
    if (!f.member) continue;
    uint64_t v = s.*f.member;
    out += ',';
    if (f.kind == detail::FieldKind::Limit && v == kUnlimited) {
      out += "max";
      continue;
    }
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
  return {};
}

}  // namespace ow::store
