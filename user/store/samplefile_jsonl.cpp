// JSONL codec of sample records (format in samplefile.hpp).
#include <charconv>
#include <cmath>
#include <iterator>

#include <nlohmann/json.hpp>

#include "store/samplefile.hpp"
#include "store/samplefile_fields.hpp"
#include "stats/time.hpp"
#include "util/text.hpp"

namespace ow::store {
namespace {
using detail::FieldKind;
using json = nlohmann::json;

void append_value(std::string& out, const detail::Field& f, const sampler::Sample& s) {
  uint64_t v = s.*f.member;
  // No limit is null, as in every JSON oomwatch prints (docs/cli.md "JSON").
  if (f.kind == FieldKind::Limit && v == kUnlimited) {
    out += "null";
    return;
  }
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

Status bad(const detail::Field& f, const std::string& why) {
  return app_error("\"" + std::string(f.name) + "\" " + why);
}

Status read_ts(const detail::Field& f, const json& v, sampler::Sample& out) {
  if (v.is_string()) return detail::parse_text_value(f, v.get_ref<const std::string&>(), out);
  if (v.is_number_unsigned()) {
    uint64_t secs = v.get<uint64_t>();
    if (secs > static_cast<uint64_t>(INT64_MAX / 1'000'000'000)) return bad(f, "out of range");
    out.ts_ns = static_cast<int64_t>(secs) * 1'000'000'000;
    return {};
  }
  if (v.is_number_float()) {  // unix seconds with a fraction: microsecond precision at best
    double d = v.get<double>();
    if (!(d >= 0 && d < 9.2e9)) return bad(f, "out of range");
    out.ts_ns = std::llround(d * 1e9);
    return {};
  }
  return bad(f, "must be an RFC 3339 string or unix seconds");
}

Status read_value(const detail::Field& f, const json& v, sampler::Sample& out) {
  switch (f.kind) {
    case FieldKind::Ts:
      return read_ts(f, v, out);
    case FieldKind::Path:
      if (!v.is_string() || v.get_ref<const std::string&>().empty() || v.get_ref<const std::string&>()[0] != '/')
        return bad(f, "must be a cgroup path string starting with '/'");
      out.cgroup = v.get<std::string>();
      return {};
    case FieldKind::Limit:
      if (v.is_null() || (v.is_string() && v.get_ref<const std::string&>() == "max")) {
        out.*f.member = kUnlimited;
        return {};
      }
      [[fallthrough]];
    case FieldKind::Bytes:
      if (!v.is_number_unsigned())
        return bad(f, std::string("must be a non-negative integer") + (f.kind == FieldKind::Limit ? ", null or \"max\"" : "") +
                          ", got " + json_line(v));
      out.*f.member = v.get<uint64_t>();
      return {};
  }
  return {};
}

}  // namespace

std::string to_jsonl(const sampler::Sample& s) {
  std::string out;
  append_jsonl(out, s, stats::format_rfc3339(s.ts_ns));
  return out;
}

void append_jsonl(std::string& out, const sampler::Sample& s, std::string_view ts) {
  out += "{\"ts\":\"";
  out += ts;
  out += "\",\"cgroup\":";
  bool plain = true;
  for (unsigned char c : s.cgroup) plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  if (plain) {
    out += '"';
    out += s.cgroup;
    out += '"';
  } else {
    // A cgroup name need not be UTF-8; invalid bytes become U+FFFD rather than abort the write.
    out += json(s.cgroup).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  for (const auto& f : detail::kFields) {
    if (!f.member) continue;
    out += ",\"";
    out += f.name;
    out += "\":";
    append_value(out, f, s);
  }
  out += '}';
}

Result<sampler::Sample> from_jsonl(std::string_view line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return app_error("not valid JSON (truncated or garbled record)");
  if (!j.is_object()) return app_error("expected a JSON object");
  sampler::Sample s = detail::default_sample();
  for (const auto& f : detail::kFields) {
    auto it = j.find(std::string(f.name));
    if (it == j.end()) {
      if (f.required) return app_error("missing \"" + std::string(f.name) + "\"");
      continue;
    }
    if (auto st = read_value(f, *it, s); !st) return st.error();
  }
  return s;
}

}  // namespace ow::store
