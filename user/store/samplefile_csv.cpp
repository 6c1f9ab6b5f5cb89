// CSV codec of sample records (format in samplefile.hpp).
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
  if (s.cgroup.find_first_of("\r\n") != std::string::npos)
    return app_error("cgroup path with a line break cannot be written as CSV (use .jsonl):", s.cgroup);
  std::string out = stats::format_rfc3339(s.ts_ns) + "," + stats::csv_field(s.cgroup);
  for (const auto& f : detail::kFields) {
    if (!f.member) continue;
    uint64_t v = s.*f.member;
    out += ",";
    out += (f.kind == detail::FieldKind::Limit && v == kUnlimited) ? "max" : std::to_string(v);
  }
  return out;
}

}  // namespace ow::store
